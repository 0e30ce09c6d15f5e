/* Power-loss test of the whole install: a 1 MiB image is installed with the power cut at
 * every storage operation in turn (slot erases, slot writes, record writes — each one number
 * in the POSIX port's counter), under three tear modes (a pseudo-random prefix of the cut
 * operation reaches storage; none of it; all of it but the call never returns).
 *
 * After each cut the device is powered on again from what is on "flash" alone, and the test
 * asserts: the boot selection starts a slot holding one complete, good image (the factory
 * image in A, or the new one in B); the record decodes and is consistent with it (the floor is
 * raised exactly when B is confirmed); and resuming — with the offer handed in again whenever
 * the agent is idle, as check-in would — completes the install with exactly one CONFIRMED
 * event and no rollback, no failed download or verification, no record reset.
 *
 * Two installs are swept: the first one (release 43 into slot B of a factory device, blank
 * record), and an update of an update (release 44 into slot A over the factory image, with 43
 * confirmed in B and the floor at 43), where losing the record or acting before committing
 * would leave no good image to boot or would lower the floor.
 *
 * The number of storage operations of an uninterrupted install is checked too (it bounds this
 * test and the wear of a real device): 1 record write to start, 256 erases + 256 writes,
 * 16 progress records, 1 to mark pending, 1 to count the trial boot, 1 to confirm; plus, on a
 * blank device, 1 at the first power-on to record the factory state. The sweeps run with
 * progress committed after every leaf (the test core's default) and again with progress
 * committed every 3 leaves, as FWC_AGENT_PROGRESS_BYTES does in the product. */
#include "agent_test.h"

#define IMAGE_LEN 1048576u
#define CHUNK 65536u
#define EXPECTED_OPS (1 + 256 * 2 + 16 + 1 + 1 + 1)
#define FIRST_BOOT_OPS 1 /* a blank device records its factory state at the first power-on */

static struct fwc_agent agent;
static struct fixture fx;

/* One install to sweep: the device starts with `old` confirmed (or the factory image) and
 * installs `offer` into the other slot. */
struct scenario {
	const char *name;
	uint8_t old_slot, new_slot;
	const uint8_t *old_img, *new_img;
	size_t old_len, new_len;
	uint64_t old_floor, new_counter;
	const struct fwc_agent_offer *offer;
	int base_events; /* events queued before this install (not reported: no format yet) */
	long ops;        /* storage operations of the install without a cut */
};

static struct scenario first, second;
static uint8_t *image44;
static char src44[400];
static struct fwc_agent_offer offer44;

/* The device after the first install, restored before each run of the second sweep. */
static const char *const snap_files[] = {"slot-a", "slot-b", "record-0", "record-1"};
static uint8_t *snap[4];
static size_t snap_len[4];

static const struct fwc_agent_record *rec(void)
{
	return fwc_agent_record(&agent);
}

static int events_of(uint8_t type)
{
	int n = 0;

	for (unsigned i = 0; i < rec()->event_count; i++)
		n += rec()->events[i].type == type;
	return n;
}

static int open_quiet(void)
{
	if (test_open(&fx.port, fx.dev) != FWC_OK)
		return -1;
	fx.port.log_level = -1; /* thousands of expected failures: keep the output readable */
	return 0;
}

/* A fresh device for one run: the factory state, or the snapshot after the first install. */
static int fresh_device(const struct scenario *sc)
{
	char path[600];

	fwc_posix_close(&fx.port);
	if (sc->offer == first.offer) { /* the first install, or a variant of it */
		if (fwc_posix_format(fx.dev, TEST_SLOT_SIZE, 4096) != FWC_OK || open_quiet() != 0)
			return -1;
		return fwc_posix_factory_write(&fx.port, FWC_SLOT_A, fx.factory, fx.factory_len) ==
		               FWC_OK
		           ? 0
		           : -1;
	}
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/%s", fx.dev, snap_files[i]);
		if (test_write_file(path, snap[i], snap_len[i]) != 0)
			return -1;
	}
	return open_quiet();
}

static int install_done(const struct scenario *sc)
{
	const struct fwc_agent_record *r = rec();

	return r->active_slot == sc->new_slot && r->pending_slot == FWC_SLOT_NONE &&
	       r->floor == sc->new_counter && !r->download.active;
}

/* Drive the agent, powering on again after every reboot, until the install is complete or
 * the power fails; the offer is handed in whenever the agent is idle without a finished
 * install (check-in's job). Returns 1 when complete, 0 when the power failed, -1 when the
 * agent got stuck. */
static int drive(const struct scenario *sc, int offer_first)
{
	int offers = 0;

	if (offer_first) {
		int rc = fwc_agent_test_offer(&agent, sc->offer);

		if (fx.port.power_lost)
			return 0;
		if (rc != FWC_OK)
			return -1;
		offers++;
	}
	for (int round = 0; round < 64; round++) {
		enum fwc_agent_state s = run_agent(&agent, &fx.port, 1000);

		if (fx.port.power_lost)
			return 0;
		if (fx.port.reboot_requested) {
			int rc = fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov);

			if (fx.port.power_lost)
				return 0;
			if (rc != FWC_OK)
				return -1;
			continue;
		}
		if (s != FWC_AGENT_IDLE)
			return -1;
		if (install_done(sc))
			return 1;
		if (offers++ > 8)
			return -1;
		if (fwc_agent_test_offer(&agent, sc->offer) != FWC_OK)
			return fx.port.power_lost ? 0 : -1;
	}
	return -1;
}

/* One run with the power cut at operation `cut`. Returns 1 when the cut happened and every
 * check held, 0 when the install finished before operation `cut` (the sweep is over), -1 on
 * a failed check (reported). */
static int run_cut(const struct scenario *sc, long cut, int tear)
{
	const struct fwc_agent_record *r;
	uint8_t slot = 0xEE;
	int d, bad = 0;

	if (fresh_device(sc) != 0)
		return -1;
	fx.port.cut_at = cut;
	fx.port.tear = tear;
	if (fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov) != FWC_OK)
		return -1;
	d = drive(sc, 1);
	if (d == 1)
		return 0;
	if (d < 0) {
		fprintf(stderr, "%s: cut %ld tear %d: stuck before the cut\n", sc->name, cut, tear);
		return -1;
	}

	/* power comes back: everything the agent knew is gone but the device directory */
	fwc_posix_close(&fx.port);
	if (open_quiet() != 0 || fwc_posix_power_on(&agent, &slot, &fx.port, &fx.prov) != FWC_OK) {
		fprintf(stderr, "%s: cut %ld tear %d: power-on failed\n", sc->name, cut, tear);
		return -1;
	}
	/* exactly one good image runs, and the record agrees with it */
	r = rec();
	if (slot == sc->old_slot) {
		bad |= !slot_holds(&fx.port, slot, sc->old_img, sc->old_len) << 0;
		bad |= (r->active_slot != slot || r->pending_slot != FWC_SLOT_NONE) << 1;
		bad |= (r->floor != sc->old_floor) << 2;
	} else if (slot == sc->new_slot) {
		bad |= !slot_holds(&fx.port, slot, sc->new_img, sc->new_len) << 3;
		bad |= !(r->pending_slot == slot || r->active_slot == slot) << 4;
		bad |= (r->floor != (r->active_slot == slot ? sc->new_counter : sc->old_floor))
		       << 5;
	} else {
		bad |= 1 << 6;
	}
	if (r->download.active)
		bad |= (r->download.slot != sc->new_slot || r->download.verified > sc->new_len ||
		        (r->download.verified % CHUNK != 0 && r->download.verified != sc->new_len))
		       << 7;
	if (bad) {
		fprintf(stderr, "%s: cut %ld tear %d: after power-on slot %u, checks 0x%x failed\n",
		        sc->name, cut, tear, slot, bad);
		return -1;
	}

	/* resume to the end */
	d = drive(sc, 0);
	if (d != 1) {
		fprintf(stderr, "%s: cut %ld tear %d: resume did not complete (%d, %s, err %d)\n",
		        sc->name, cut, tear, d, fwc_agent_state_name(fwc_agent_state(&agent)),
		        fwc_agent_last_error(&agent));
		return -1;
	}
	r = rec();
	bad |= !slot_holds(&fx.port, sc->new_slot, sc->new_img, sc->new_len) << 0;
	bad |= (events_of(FWC_AGENT_EV_CONFIRMED) != sc->base_events + 1) << 1;
	bad |= (r->event_count != sc->base_events + 1) << 2; /* no rollback/failure/reset */
	bad |= (r->active.counter != sc->new_counter || r->active.size != sc->new_len) << 3;
	if (bad) {
		fprintf(stderr, "%s: cut %ld tear %d: after resume, checks 0x%x failed\n", sc->name,
		        cut, tear, bad);
		return -1;
	}
	return 1;
}

static void sweep(const struct scenario *sc, int tear)
{
	long cut, failed = 0;

	for (cut = 0; cut < sc->ops + 10; cut++) {
		int r = run_cut(sc, cut, tear);

		if (r == 0)
			break;
		failed += r < 0;
	}
	printf("%s, tear mode %d: %ld cut points, %ld failed\n", sc->name, tear, cut, failed);
	CHECK(failed == 0);
	/* the sweep ended because the install finished before the cut: every op was covered */
	CHECK(cut == sc->ops);
}

/* Both installs without a cut: count their storage operations, and take the snapshot the
 * second sweep starts from. */
static void test_uninterrupted(void)
{
	char path[600];

	CHECK(fresh_device(&first) == 0);
	CHECK_RC(fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov), FWC_OK);
	CHECK(drive(&first, 1) == 1);
	CHECK(fx.port.ops == first.ops);
	CHECK(fx.port.erases == 256 && fx.port.writes == 256 && fx.port.record_writes == 21);
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/%s", fx.dev, snap_files[i]);
		snap[i] = (uint8_t *)test_read_file(path, &snap_len[i]);
		CHECK(snap[i] != NULL);
	}
	CHECK(fresh_device(&second) == 0);
	CHECK_RC(fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov), FWC_OK);
	CHECK(rec()->active_slot == FWC_SLOT_B && rec()->floor == TEST_COUNTER);
	CHECK(drive(&second, 1) == 1);
	CHECK(fx.port.ops == second.ops);
}

static void test_first_install_sweep(void)
{
	sweep(&first, FWC_POSIX_TEAR_RANDOM);
}

static void test_second_install_sweeps(void)
{
	sweep(&second, FWC_POSIX_TEAR_RANDOM);
	sweep(&second, FWC_POSIX_TEAR_NONE);
	sweep(&second, FWC_POSIX_TEAR_ALL);
}

/* Download progress committed every 3 leaves (FWC_AGENT_PROGRESS_BYTES) instead of after
 * each: 6 progress records instead of 16 (leaves 3, 6, 9, 12, 15 and the end), and a cut
 * anywhere still leaves a good image and resumes from the last committed leaf end. */
static void test_batched_progress(void)
{
	struct scenario f3 = first, s3 = second;

	fwc_agent_test_progress_bytes = 3 * CHUNK;
	f3.name = "first install, progress every 3 leaves";
	f3.ops = first.ops - 16 + 6;
	s3.name = "second install, progress every 3 leaves";
	s3.ops = second.ops - 16 + 6;
	CHECK(fresh_device(&f3) == 0);
	CHECK_RC(fwc_posix_power_on(&agent, NULL, &fx.port, &fx.prov), FWC_OK);
	CHECK(drive(&f3, 1) == 1);
	CHECK(fx.port.ops == f3.ops);
	CHECK(fx.port.erases == 256 && fx.port.writes == 256 && fx.port.record_writes == 11);
	sweep(&f3, FWC_POSIX_TEAR_RANDOM);
	sweep(&s3, FWC_POSIX_TEAR_RANDOM);
	sweep(&s3, FWC_POSIX_TEAR_ALL);
	fwc_agent_test_progress_bytes = 0;
}

int main(void)
{
	if (fixture_setup(&fx, "powerloss", IMAGE_LEN, CHUNK, 4096) != 0 ||
	    (image44 = malloc(IMAGE_LEN)) == NULL) {
		fprintf(stderr, "fixture setup failed\n");
		return 1;
	}
	test_pattern(image44, IMAGE_LEN, 3);
	snprintf(src44, sizeof(src44), "%s/blocks-44", fx.root);
	if (test_offer_build(&offer44, image44, IMAGE_LEN, TEST_COUNTER + 1, CHUNK, src44) != 0)
		return 1;
	test_offer_source(&offer44, src44);
	first = (struct scenario){"first install", FWC_SLOT_A, FWC_SLOT_B,
	                          fx.factory,      fx.image,   fx.factory_len,
	                          IMAGE_LEN,       0,          TEST_COUNTER,
	                          &fx.offer,       0,          FIRST_BOOT_OPS + EXPECTED_OPS};
	second = (struct scenario){"second install", FWC_SLOT_B, FWC_SLOT_A, fx.image,
	                           image44,          IMAGE_LEN,  IMAGE_LEN,  TEST_COUNTER,
	                           TEST_COUNTER + 1, &offer44,   1,          EXPECTED_OPS};
	RUN(test_uninterrupted);
	RUN(test_first_install_sweep);
	RUN(test_second_install_sweeps);
	RUN(test_batched_progress);
	for (int i = 0; i < 4; i++)
		free(snap[i]);
	free(image44);
	fixture_teardown(&fx);
	return test_done();
}
