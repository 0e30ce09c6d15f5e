/* Tests the agent's state machine (agent/core/agent.c, slots.c) on the POSIX port: a whole
 * install (download, verify, pending, trial boot, confirm), rollback after failed health checks
 * and after trial boots that never reach the check, a rolled-back release never installed
 * again while a higher one is, rollback when a pending slot is modified
 * after install, a damaged confirmed image, source failover, the signed-size bound, the
 * minimum-rate rule, download resume, offer checks, and the check-in hook's refusal.
 *
 * Offers come through fwc_agent_test_offer() (test build of the core only), as if check-in had
 * verified them; the image's DAG is written by libfwchain's UnixFS importer into directories
 * the agent reads as file:// trustless gateways. agent/tests/dag.c tests the DAG walk itself
 * (deeper trees, CIDv0, dag-pb leaves, refused shapes). */
#include "agent_test.h"

#include <fcntl.h>

static struct fwc_agent agent;
static struct fixture fx;

static const struct fwc_agent_record *rec(void)
{
	return fwc_agent_record(&agent);
}

/* Count events of a type in the record. */
static int events_of(uint8_t type)
{
	int n = 0;

	for (unsigned i = 0; i < rec()->event_count; i++)
		n += rec()->events[i].type == type;
	return n;
}

static const struct fwc_agent_event *last_event(void)
{
	return rec()->event_count ? &rec()->events[rec()->event_count - 1] : NULL;
}

/* Power on, take the fixture's offer, run to the reboot that follows INSTALL. */
static void install_until_reboot(void)
{
	uint8_t slot = 0xEE;

	CHECK_RC(fwc_posix_power_on(&agent, &slot, &fx.port, &fx.prov), FWC_OK);
	CHECK(slot == FWC_SLOT_A);
	CHECK(fwc_agent_state(&agent) == FWC_AGENT_IDLE);
	CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_OK);
	CHECK(fwc_agent_state(&agent) == FWC_AGENT_DOWNLOAD);
	CHECK(run_agent(&agent, &fx.port, 1000) == FWC_AGENT_REBOOT);
	CHECK(fx.port.reboot_requested);
	CHECK(rec()->pending_slot == FWC_SLOT_B && rec()->boot_attempts == 0);
	CHECK(rec()->pending.counter == TEST_COUNTER && rec()->pending.size == fx.image_len);
	CHECK(rec()->download.active == 0);
	CHECK(rec()->floor == fx.prov.factory_floor); /* not before the confirmation */
	/* a dead context refuses to go on */
	CHECK(fwc_agent_step(&agent) == FWC_AGENT_REBOOT);
	CHECK_RC(fwc_agent_last_error(&agent), FWC_ERR_STATE);
}

static void test_install_confirm(void)
{
	uint8_t slot = 0xEE;
	uint8_t want[32];
	long gets;

	CHECK(fixture_setup(&fx, "install", 1048576, 65536, 4096) == 0);
	install_until_reboot();
	/* 1 MiB in 4 KiB blocks: the root's first bytes and the root (2 GETs), then 16 leaves of
	 * 16 GETs each; 256 erases and writes; commits: the factory record at the first
	 * power-on, then 1 to start + 16 leaves + 1 to mark pending */
	CHECK(fx.port.gets == 2 + 256 && fx.port.writes == 256 && fx.port.erases == 256);
	CHECK(fx.port.record_writes == 1 + 18);
	CHECK(slot_holds(&fx.port, FWC_SLOT_B, fx.image, fx.image_len));
	CHECK(slot_holds(&fx.port, FWC_SLOT_A, fx.factory, fx.factory_len));

	/* the reset: the boot selection counts the trial and starts slot B */
	CHECK_RC(fwc_posix_power_on(&agent, &slot, &fx.port, &fx.prov), FWC_OK);
	CHECK(slot == FWC_SLOT_B && rec()->boot_attempts == 1);
	CHECK(fwc_agent_state(&agent) == FWC_AGENT_BOOT_CHECK);
	CHECK(fwc_agent_step(&agent) == FWC_AGENT_CONFIRM);
	CHECK(fwc_agent_step(&agent) == FWC_AGENT_REPORT);
	CHECK(rec()->active_slot == FWC_SLOT_B && rec()->pending_slot == FWC_SLOT_NONE);
	CHECK(rec()->floor == TEST_COUNTER && rec()->boot_attempts == 0);
	CHECK(rec()->active.counter == TEST_COUNTER && rec()->active.size == fx.image_len);
	fwc_sha256(want, fx.image, fx.image_len);
	CHECK_MEM(rec()->active.sha256, want, 32);
	CHECK(events_of(FWC_AGENT_EV_CONFIRMED) == 1 && rec()->event_count == 1);
	CHECK(last_event()->counter == TEST_COUNTER && last_event()->seq == 0);
	CHECK(last_event()->time > 1600000000u); /* the port has a clock */
	/* REPORT: without a node to report to, events stay queued (checkin.c tests reports) */
	CHECK(fwc_agent_step(&agent) == FWC_AGENT_IDLE);
	CHECK_RC(fwc_agent_last_error(&agent), FWC_ERR_STATE);
	CHECK(rec()->event_count == 1);

	/* from IDLE the agent checks in; without trust anchors it cannot (agent/tests/checkin.c
	 * tests the provisioned check-in) */
	CHECK(fwc_agent_step(&agent) == FWC_AGENT_CHECKIN);
	CHECK(fwc_agent_step(&agent) == FWC_AGENT_REPORT);
	CHECK_RC(fwc_agent_last_error(&agent), FWC_ERR_STATE);
	CHECK(fwc_agent_step(&agent) == FWC_AGENT_IDLE);

	/* a later reset starts slot B again, without counting anything */
	gets = fx.port.gets;
	CHECK_RC(fwc_posix_power_on(&agent, &slot, &fx.port, &fx.prov), FWC_OK);
	CHECK(slot == FWC_SLOT_B && fwc_agent_state(&agent) == FWC_AGENT_IDLE);
	CHECK(rec()->floor == TEST_COUNTER && fx.port.gets == gets);

	/* the same release again, or an older one, is refused: the floor is 43 */
	CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_ERR_RANGE);
	fx.offer.counter = 42;
	CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_ERR_RANGE);

	/* an update of an update goes back into slot A */
	fx.offer.counter = 44;
	CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_OK);
	CHECK(rec()->download.slot == FWC_SLOT_A);
	CHECK(run_agent(&agent, &fx.port, 1000) == FWC_AGENT_REBOOT);
	CHECK(boot_until_idle(&agent, &fx.port, &fx.prov, 4, NULL) == 1);
	CHECK(rec()->active_slot == FWC_SLOT_A && rec()->floor == 44);
	CHECK(slot_holds(&fx.port, FWC_SLOT_A, fx.image, fx.image_len));
	fixture_teardown(&fx);
}

/* The new image fails its health check on every trial boot: rollback, floor unchanged. */
/* After a rollback of TEST_COUNTER: the same release, offered again at the next check-ins
 * (before and after a reset), is refused without a byte of download or a slot write, with one
 * REFUSED event; a higher release is installed and confirmed, and the floor passes both. */
static void not_reinstalled(void)
{
	struct fwc_agent_offer higher = fx.offer;
	char marker[400];
	long writes = fx.port.writes, gets = fx.port.gets;
	uint8_t slot;

	for (int poll = 0; poll < 3; poll++) {
		if (poll == 2)
			CHECK_RC(fwc_posix_power_on(&agent, &slot, &fx.port, &fx.prov), FWC_OK);
		CHECK(fwc_agent_state(&agent) == FWC_AGENT_IDLE);
		CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_ERR_RANGE);
		CHECK(fwc_agent_state(&agent) == FWC_AGENT_IDLE);
		CHECK(rec()->download.active == 0 && rec()->pending_slot == FWC_SLOT_NONE);
	}
	CHECK(fx.port.writes == writes && fx.port.gets == gets);
	CHECK(events_of(FWC_AGENT_EV_REFUSED) == 1);
	CHECK(last_event()->reason == FWC_AGENT_REFUSE_ROLLBACK);
	CHECK(last_event()->code == FWC_ERR_RANGE && last_event()->counter == TEST_COUNTER);
	CHECK(rec()->abandoned == TEST_COUNTER);

	/* a fixed release gets a higher counter: that one is installed (a healthy slot B now) */
	snprintf(marker, sizeof(marker), "%s/unhealthy-b", fx.dev);
	(void)remove(marker);
	higher.counter = TEST_COUNTER + 1;
	CHECK_RC(fwc_agent_test_offer(&agent, &higher), FWC_OK);
	CHECK(run_agent(&agent, &fx.port, 1000) == FWC_AGENT_REBOOT);
	CHECK(rec()->pending.counter == TEST_COUNTER + 1);
	CHECK(boot_until_idle(&agent, &fx.port, &fx.prov, 5, NULL) > 0);
	CHECK(rec()->active_slot == FWC_SLOT_B && rec()->active.counter == TEST_COUNTER + 1);
	CHECK(rec()->floor == TEST_COUNTER + 1 && rec()->abandoned == TEST_COUNTER);
	CHECK(last_event()->type == FWC_AGENT_EV_CONFIRMED);
}

static void test_health_rollback(void)
{
	char marker[400];
	uint8_t slot;
	int trials = 0;

	CHECK(fixture_setup(&fx, "health", 200000, 65536, 4096) == 0);
	fx.prov.factory_floor = 7;
	snprintf(marker, sizeof(marker), "%s/unhealthy-b", fx.dev);
	CHECK(test_write_file(marker, (const uint8_t *)"", 0) == 0);
	install_until_reboot();
	CHECK(rec()->floor == 7);
	for (int reset = 0; reset < 10; reset++) {
		CHECK_RC(fwc_posix_power_on(&agent, &slot, &fx.port, &fx.prov), FWC_OK);
		if (slot == FWC_SLOT_A)
			break;
		trials++;
		CHECK(rec()->boot_attempts == trials);
		CHECK(fwc_agent_state(&agent) == FWC_AGENT_BOOT_CHECK);
		if (trials < FWC_AGENT_MAX_BOOT_ATTEMPTS) {
			CHECK(fwc_agent_step(&agent) == FWC_AGENT_REBOOT);
			CHECK(rec()->pending_slot == FWC_SLOT_B);
		} else {
			CHECK(fwc_agent_step(&agent) == FWC_AGENT_ROLLBACK);
			CHECK(fwc_agent_step(&agent) == FWC_AGENT_REBOOT); /* still in slot B */
			CHECK(rec()->pending_slot == FWC_SLOT_NONE);
		}
		CHECK(fwc_agent_step(&agent) == FWC_AGENT_REBOOT);
	}
	CHECK(trials == FWC_AGENT_MAX_BOOT_ATTEMPTS);
	CHECK(slot == FWC_SLOT_A && fwc_agent_state(&agent) == FWC_AGENT_IDLE);
	CHECK(rec()->active_slot == FWC_SLOT_A && rec()->pending_slot == FWC_SLOT_NONE);
	CHECK(rec()->floor == 7 && rec()->boot_attempts == 0);
	CHECK(events_of(FWC_AGENT_EV_ROLLED_BACK) == 1 && events_of(FWC_AGENT_EV_CONFIRMED) == 0);
	CHECK(last_event()->reason == FWC_AGENT_REASON_HEALTH);
	CHECK(last_event()->code == FWC_ERR_STATE && last_event()->counter == TEST_COUNTER);
	CHECK(slot_holds(&fx.port, FWC_SLOT_A, fx.factory, fx.factory_len));
	CHECK(rec()->abandoned == TEST_COUNTER);
	not_reinstalled();
	fixture_teardown(&fx);
}

/* Trial boots that never reach the health check (the image crashes, or power fails): the
 * boot selection itself rolls back once the attempts are used up. */
static void test_crash_rollback(void)
{
	uint8_t slot;

	CHECK(fixture_setup(&fx, "crash", 100000, 65536, 4096) == 0);
	install_until_reboot();
	for (int i = 1; i <= FWC_AGENT_MAX_BOOT_ATTEMPTS; i++) {
		CHECK_RC(fwc_posix_power_on(&agent, &slot, &fx.port, &fx.prov), FWC_OK);
		CHECK(slot == FWC_SLOT_B && rec()->boot_attempts == i);
		/* crash: no step at all */
	}
	CHECK_RC(fwc_posix_power_on(&agent, &slot, &fx.port, &fx.prov), FWC_OK);
	CHECK(slot == FWC_SLOT_A && rec()->pending_slot == FWC_SLOT_NONE && rec()->floor == 0);
	CHECK(last_event() != NULL && last_event()->type == FWC_AGENT_EV_ROLLED_BACK);
	CHECK(last_event()->reason == FWC_AGENT_REASON_ATTEMPTS);
	CHECK(fwc_agent_state(&agent) == FWC_AGENT_IDLE);
	fixture_teardown(&fx);
}

static void flip_slot_byte(uint8_t slot, uint64_t off)
{
	uint8_t b;

	CHECK_RC(fwc_port_slot_read(&fx.port, &b, 1, slot, off), FWC_OK);
	b ^= 0x10;
	CHECK(pwrite(fx.port.slot_fd[slot], &b, 1, (off_t)off) == 1);
}

/* The pending slot changes between install and boot: the boot-time hash check rolls back. */
static void test_modified_slot_rollback(void)
{
	uint8_t slot;

	CHECK(fixture_setup(&fx, "modified", 300000, 65536, 4096) == 0);
	install_until_reboot();
	flip_slot_byte(FWC_SLOT_B, 299999); /* the very last image byte */
	CHECK_RC(fwc_posix_power_on(&agent, &slot, &fx.port, &fx.prov), FWC_OK);
	CHECK(slot == FWC_SLOT_A && rec()->pending_slot == FWC_SLOT_NONE);
	CHECK(rec()->floor == 0 && rec()->active_slot == FWC_SLOT_A);
	CHECK(last_event() != NULL && last_event()->type == FWC_AGENT_EV_ROLLED_BACK);
	CHECK(last_event()->reason == FWC_AGENT_REASON_HASH);
	CHECK(last_event()->code == FWC_ERR_HASH_MISMATCH);
	CHECK(fwc_agent_state(&agent) == FWC_AGENT_IDLE);

	/* a confirmed image damaged later: boot selection refuses to start it */
	fixture_teardown(&fx);
	CHECK(fixture_setup(&fx, "damaged", 300000, 65536, 4096) == 0);
	install_until_reboot();
	CHECK(boot_until_idle(&agent, &fx.port, &fx.prov, 4, NULL) == 1);
	CHECK(rec()->active_slot == FWC_SLOT_B && rec()->floor == TEST_COUNTER);
	flip_slot_byte(FWC_SLOT_B, 12345);
	slot = 0xEE;
	CHECK_RC(fwc_posix_power_on(&agent, &slot, &fx.port, &fx.prov), FWC_ERR_HASH_MISMATCH);
	CHECK(slot == 0xEE);
	fixture_teardown(&fx);
}

/* Sources that are missing, corrupt, short or over-long: failover, and the signed-size bound. */
static void test_failover(void)
{
	char bad[400], shortd[400], longd[400];

	CHECK(fixture_setup(&fx, "failover", 1048576, 65536, 4096) == 0);
	snprintf(bad, sizeof(bad), "%s/corrupt", fx.root);
	snprintf(shortd, sizeof(shortd), "%s/short", fx.root);
	CHECK(test_dag_tamper(bad, fx.image, fx.image_len, 65536, 1, TAMPER_FLIP) == 0);
	CHECK(test_dag_tamper(shortd, fx.image, fx.image_len, 65536, 15, TAMPER_SHORT) == 0);

	/* missing, then corrupt at leaf 1, then short at the last leaf, then good */
	fx.offer.source_count = 0;
	test_offer_source(&fx.offer, "/nonexistent/fwagent-image");
	test_offer_source(&fx.offer, bad);
	test_offer_source(&fx.offer, shortd);
	test_offer_source(&fx.offer, fx.src);
	CHECK_RC(fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov), FWC_OK);
	CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_OK);
	CHECK(run_agent(&agent, &fx.port, 1000) == FWC_AGENT_REBOOT);
	CHECK(rec()->pending_slot == FWC_SLOT_B);
	CHECK(slot_holds(&fx.port, FWC_SLOT_B, fx.image, fx.image_len));
	/* leaf 0: missing fails (1 GET: the root's first bytes), corrupt serves the root (2) and
	 * the leaf (16); leaf 1: corrupt fails (16), short serves it and 13 more leaves
	 * (14 x 16), fails on the last (16), good (16); the root stays held throughout */
	CHECK(fx.port.gets == 1 + 2 + 16 + 16 + 14 * 16 + 16 + 16);
	fixture_teardown(&fx);

	/* a source with more bytes than signed: never read past the signed size */
	CHECK(fixture_setup(&fx, "longsrc", 1048576 - 1000, 65536, 4096) == 0);
	fx.offer.source_count = 0;
	snprintf(longd, sizeof(longd), "%s/long", fx.root);
	CHECK(test_dag_tamper(longd, fx.image, fx.image_len, 65536, 15, TAMPER_LONG) == 0);
	test_offer_source(&fx.offer, longd);
	CHECK_RC(fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov), FWC_OK);
	CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_OK);
	CHECK(run_agent(&agent, &fx.port, 1000) == FWC_AGENT_REBOOT);
	CHECK(fx.port.gets == 2 + 256); /* the last block is a short one, none beyond */
	CHECK(slot_holds(&fx.port, FWC_SLOT_B, fx.image, fx.image_len));
	fixture_teardown(&fx);
}

/* Every source bad: the download is given up after each was tried FWC_AGENT_SOURCE_ROUNDS
 * times for the block, with a DOWNLOAD_FAILED event; nothing else changes. */
static void test_all_sources_fail(void)
{
	CHECK(fixture_setup(&fx, "allfail", 200000, 65536, 4096) == 0);
	fx.offer.source_count = 0;
	test_offer_source(&fx.offer, "/nonexistent/a");
	test_offer_source(&fx.offer, "/nonexistent/b");
	CHECK_RC(fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov), FWC_OK);
	CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_OK);
	CHECK(run_agent(&agent, &fx.port, 1000) == FWC_AGENT_IDLE);
	CHECK(fx.port.gets == 2 * FWC_AGENT_SOURCE_ROUNDS);
	CHECK(rec()->download.active == 0 && rec()->pending_slot == FWC_SLOT_NONE);
	CHECK(rec()->active_slot == FWC_SLOT_A && rec()->floor == 0);
	CHECK(last_event() != NULL && last_event()->type == FWC_AGENT_EV_DOWNLOAD_FAILED);
	CHECK(last_event()->code == FWC_ERR_NOT_FOUND);
	fixture_teardown(&fx);
}

/* The minimum-rate rule: a source slower than FWC_AGENT_MIN_RATE after the grace period is
 * abandoned; one just above it is kept. Time is simulated by the port's GET delay. */
static void test_min_rate(void)
{
	/* 4096 bytes per 20 s = 205 B/s < 256 B/s */
	CHECK(fixture_setup(&fx, "slow", 200000, 65536, 4096) == 0);
	fx.port.get_delay_ms = 20000;
	CHECK_RC(fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov), FWC_OK);
	CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_OK);
	CHECK(run_agent(&agent, &fx.port, 1000) == FWC_AGENT_IDLE);
	CHECK(last_event() != NULL && last_event()->type == FWC_AGENT_EV_DOWNLOAD_FAILED);
	CHECK(last_event()->code == FWC_ERR_IO);
	/* the root (2 GETs, before the leaf's clock starts), then one GET per try of leaf 0 */
	CHECK(fx.port.gets == 2 + FWC_AGENT_SOURCE_ROUNDS);
	fixture_teardown(&fx);

	/* 4096 bytes per 10 s = 410 B/s: slow but allowed */
	CHECK(fixture_setup(&fx, "slowok", 200000, 65536, 4096) == 0);
	fx.port.get_delay_ms = 10000;
	CHECK_RC(fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov), FWC_OK);
	CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_OK);
	CHECK(run_agent(&agent, &fx.port, 1000) == FWC_AGENT_REBOOT);
	CHECK(rec()->pending_slot == FWC_SLOT_B);
	fixture_teardown(&fx);
}

/* A reset in the middle of a download: the agent waits for the offer (check-in), then resumes
 * from the last verified leaf without fetching it again. */
static void test_resume(void)
{
	struct fwc_agent_offer other;
	long gets, records;

	CHECK(fixture_setup(&fx, "resume", 1048576, 65536, 4096) == 0);
	CHECK_RC(fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov), FWC_OK);
	CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_OK);
	for (int i = 0; i < 6; i++)
		CHECK(fwc_agent_step(&agent) == FWC_AGENT_DOWNLOAD);
	CHECK(rec()->download.verified == 6 * 65536);
	/* reset: the offer (root kind, sources) and the held root were only in RAM */
	CHECK_RC(fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov), FWC_OK);
	CHECK(fwc_agent_state(&agent) == FWC_AGENT_IDLE);
	CHECK(rec()->download.active && rec()->download.verified == 6 * 65536);
	CHECK(fwc_agent_step(&agent) == FWC_AGENT_CHECKIN); /* would bring it back */
	CHECK(fwc_agent_step(&agent) == FWC_AGENT_IDLE);
	gets = fx.port.gets;
	CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_OK);
	CHECK(run_agent(&agent, &fx.port, 1000) == FWC_AGENT_REBOOT);
	CHECK(fx.port.gets - gets == 2 + 10 * 16); /* the root again, the 10 missing leaves */
	CHECK(slot_holds(&fx.port, FWC_SLOT_B, fx.image, fx.image_len));
	fixture_teardown(&fx);

	/* progress committed every 4 leaves (FWC_AGENT_PROGRESS_BYTES): a reset after 6 leaves
	 * resumes at the 4th leaf's end and fetches leaves 5 and 6 again */
	fwc_agent_test_progress_bytes = 4 * 65536;
	CHECK(fixture_setup(&fx, "resume4", 1048576, 65536, 4096) == 0);
	CHECK_RC(fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov), FWC_OK);
	CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_OK);
	records = fx.port.record_writes;
	for (int i = 0; i < 3; i++)
		CHECK(fwc_agent_step(&agent) == FWC_AGENT_DOWNLOAD);
	CHECK(rec()->download.verified == 0 && fx.port.record_writes == records);
	CHECK(fwc_agent_step(&agent) == FWC_AGENT_DOWNLOAD);
	CHECK(rec()->download.verified == 4 * 65536 && fx.port.record_writes == records + 1);
	for (int i = 0; i < 2; i++)
		CHECK(fwc_agent_step(&agent) == FWC_AGENT_DOWNLOAD);
	CHECK(rec()->download.verified == 4 * 65536 && fx.port.record_writes == records + 1);
	CHECK_RC(fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov), FWC_OK);
	CHECK(rec()->download.active && rec()->download.verified == 4 * 65536);
	gets = fx.port.gets;
	records = fx.port.record_writes;
	CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_OK);
	CHECK(run_agent(&agent, &fx.port, 1000) == FWC_AGENT_REBOOT);
	CHECK(fx.port.gets - gets == 2 + 12 * 16); /* the root again, leaves 5..16 */
	/* commits at leaves 8, 12, 16 (the end), then INSTALL's */
	CHECK(fx.port.record_writes - records == 3 + 1);
	CHECK(slot_holds(&fx.port, FWC_SLOT_B, fx.image, fx.image_len));
	fixture_teardown(&fx);
	fwc_agent_test_progress_bytes = 0;

	/* a different release replaces an unfinished download */
	CHECK(fixture_setup(&fx, "replace", 1048576, 65536, 4096) == 0);
	CHECK_RC(fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov), FWC_OK);
	CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_OK);
	CHECK(fwc_agent_step(&agent) == FWC_AGENT_DOWNLOAD);
	CHECK_RC(fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov), FWC_OK);
	other = fx.offer;
	other.counter = 50;
	CHECK_RC(fwc_agent_test_offer(&agent, &other), FWC_OK);
	CHECK(rec()->download.verified == 0 && rec()->download.image.counter == 50);
	CHECK(run_agent(&agent, &fx.port, 1000) == FWC_AGENT_REBOOT);
	CHECK(rec()->pending.counter == 50);
	fixture_teardown(&fx);
}

/* Erase units larger than a leaf: a resume restarts at the erase unit's start and says so
 * in the record before erasing. */
static void test_large_erase_unit(void)
{
	CHECK(fixture_setup(&fx, "bigerase", 1048576, 65536, 131072) == 0);
	CHECK_RC(fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov), FWC_OK);
	CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_OK);
	for (int i = 0; i < 3; i++)
		CHECK(fwc_agent_step(&agent) == FWC_AGENT_DOWNLOAD);
	CHECK(rec()->download.verified == 3 * 65536);
	CHECK_RC(fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov), FWC_OK);
	CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_OK);
	CHECK(fwc_agent_step(&agent) == FWC_AGENT_DOWNLOAD);
	/* rewound to 128 KiB, then leaf 2 fetched again */
	CHECK(rec()->download.verified == 3 * 65536);
	CHECK(run_agent(&agent, &fx.port, 1000) == FWC_AGENT_REBOOT);
	CHECK(fx.port.erases == 2 + 7); /* units 0-1, then 1-7 again after the rewind */
	CHECK(slot_holds(&fx.port, FWC_SLOT_B, fx.image, fx.image_len));
	CHECK(boot_until_idle(&agent, &fx.port, &fx.prov, 3, NULL) == 1);
	CHECK(rec()->active_slot == FWC_SLOT_B);
	fixture_teardown(&fx);

	/* a source failing in the second leaf of an erase unit: the retry from the next source
	 * restarts at the unit's start instead of programming the half-written unit again */
	CHECK(fixture_setup(&fx, "bigerase2", 1048576, 65536, 131072) == 0);
	{
		char bad[400];

		snprintf(bad, sizeof(bad), "%s/corrupt", fx.root);
		CHECK(test_dag_tamper(bad, fx.image, fx.image_len, 65536, 1, TAMPER_FLIP) == 0);
		fx.offer.source_count = 0;
		test_offer_source(&fx.offer, bad);
		test_offer_source(&fx.offer, fx.src);
	}
	CHECK_RC(fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov), FWC_OK);
	CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_OK);
	CHECK(fwc_agent_step(&agent) == FWC_AGENT_DOWNLOAD); /* leaf 0 from the bad source */
	CHECK(fwc_agent_step(&agent) == FWC_AGENT_DOWNLOAD); /* leaf 1 fails the hash */
	CHECK_RC(fwc_agent_last_error(&agent), FWC_ERR_HASH_MISMATCH);
	CHECK(rec()->download.verified == 65536);
	CHECK(fwc_agent_step(&agent) == FWC_AGENT_DOWNLOAD); /* rewinds, leaf 0 again */
	CHECK_RC(fwc_agent_last_error(&agent), FWC_OK);
	CHECK(rec()->download.verified == 65536);
	CHECK(run_agent(&agent, &fx.port, 1000) == FWC_AGENT_REBOOT);
	CHECK(slot_holds(&fx.port, FWC_SLOT_B, fx.image, fx.image_len));
	fixture_teardown(&fx);
}

static void test_offer_checks(void)
{
	struct fwc_agent_offer o;

	CHECK(fixture_setup(&fx, "offers", 200000, 65536, 4096) == 0);
	fx.prov.factory_floor = 43;
	CHECK_RC(fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov), FWC_OK);
	CHECK(rec()->floor == 43);
	CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_ERR_RANGE); /* 43 <= floor 43 */
	fx.offer.counter = 44;

	o = fx.offer;
	o.size = TEST_SLOT_SIZE + 1;
	CHECK_RC(fwc_agent_test_offer(&agent, &o), FWC_ERR_TOO_LARGE);
	o = fx.offer;
	o.root_kind = 0;
	CHECK_RC(fwc_agent_test_offer(&agent, &o), FWC_ERR_MALFORMED);
	o.root_kind = 4;
	CHECK_RC(fwc_agent_test_offer(&agent, &o), FWC_ERR_MALFORMED);
	o.root_kind = FWC_AGENT_CID_RAW; /* one raw block: at most one step's work */
	o.size = FWC_AGENT_MAX_CHUNK_SIZE + 1;
	CHECK_RC(fwc_agent_test_offer(&agent, &o), FWC_ERR_TOO_LARGE);
	o = fx.offer;
	o.size = 0;
	CHECK_RC(fwc_agent_test_offer(&agent, &o), FWC_ERR_MALFORMED);
	o = fx.offer;
	o.source_count = 0;
	CHECK_RC(fwc_agent_test_offer(&agent, &o), FWC_ERR_MALFORMED);
	o = fx.offer;
	o.source_count = FWC_AGENT_MAX_SOURCES + 1;
	CHECK_RC(fwc_agent_test_offer(&agent, &o), FWC_ERR_MALFORMED);
	o = fx.offer;
	o.sources[0].len = 0;
	CHECK_RC(fwc_agent_test_offer(&agent, &o), FWC_ERR_MALFORMED);
	o.sources[0].len = FWC_AGENT_URL_MAX + 1;
	CHECK_RC(fwc_agent_test_offer(&agent, &o), FWC_ERR_MALFORMED);
	/* nothing recorded but the factory state of the first power-on */
	CHECK(rec()->download.active == 0 && fx.port.record_writes == 1 && rec()->seq == 1);
	/* an unsupported scheme is a failing source, not a crash */
	o = fx.offer;
	o.sources[0].len =
	    (uint16_t)snprintf(o.sources[0].url, sizeof(o.sources[0].url), "gopher://x/");
	CHECK_RC(fwc_agent_test_offer(&agent, &o), FWC_OK);
	CHECK(run_agent(&agent, &fx.port, 100) == FWC_AGENT_IDLE);
	CHECK(last_event()->type == FWC_AGENT_EV_DOWNLOAD_FAILED);
	CHECK(last_event()->code == FWC_ERR_UNSUPPORTED);
	/* not in IDLE: refused */
	CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_OK);
	CHECK_RC(fwc_agent_test_offer(&agent, &fx.offer), FWC_ERR_STATE);
	fixture_teardown(&fx);
}

/* Both record copies destroyed after an update: factory state with the provisioned floor,
 * and a RECORD_RESET event made durable at once. */
static void test_record_reset(void)
{
	uint8_t junk[64];

	CHECK(fixture_setup(&fx, "reset", 100000, 65536, 4096) == 0);
	fx.prov.factory_floor = 5;
	install_until_reboot();
	CHECK(boot_until_idle(&agent, &fx.port, &fx.prov, 3, NULL) == 1);
	CHECK(rec()->floor == TEST_COUNTER);
	memset(junk, 0x42, sizeof(junk));
	CHECK_RC(fwc_port_record_write(&fx.port, 0, junk, sizeof(junk)), FWC_OK);
	CHECK_RC(fwc_port_record_write(&fx.port, 1, junk, sizeof(junk)), FWC_OK);
	CHECK_RC(fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov), FWC_OK);
	CHECK(rec()->floor == 5 && rec()->active_slot == FWC_SLOT_A);
	CHECK(rec()->event_count == 1 && last_event()->type == FWC_AGENT_EV_RECORD_RESET);
	CHECK(agent.store.valid_mask != 0); /* committed: the next load finds it */
	fixture_teardown(&fx);
}

static void test_names(void)
{
	CHECK(strcmp(fwc_agent_state_name(FWC_AGENT_IDLE), "IDLE") == 0);
	CHECK(strcmp(fwc_agent_state_name(FWC_AGENT_BOOT_CHECK), "BOOT_CHECK") == 0);
	CHECK(strcmp(fwc_agent_state_name(FWC_AGENT_REPORT), "REPORT") == 0);
	CHECK(strcmp(fwc_agent_state_name(11), "?") == 0);
	CHECK(strcmp(fwc_agent_state_name(-1), "?") == 0);
	CHECK(fwc_agent_step(NULL) == FWC_AGENT_IDLE);
	CHECK_RC(fwc_agent_init(NULL, NULL, NULL), FWC_ERR_ARG);
	CHECK(sizeof(struct fwc_agent) <= 32 * 1024);
}

int main(void)
{
	RUN(test_names);
	RUN(test_install_confirm);
	RUN(test_health_rollback);
	RUN(test_crash_rollback);
	RUN(test_modified_slot_rollback);
	RUN(test_failover);
	RUN(test_all_sources_fail);
	RUN(test_min_rate);
	RUN(test_resume);
	RUN(test_large_erase_unit);
	RUN(test_offer_checks);
	RUN(test_record_reset);
	return test_done();
}
