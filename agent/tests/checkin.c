/* End-to-end tests of the check-in through the POSIX port: a node and a gateway played by a
 * local HTTP server (http_server.h) serving a ledger built in-process (ledger.h) and an image
 * imported as UnixFS by libfwchain.
 *
 * The happy path: check-in, verification, the verified root block, download of the leaves by
 * CID in ranges, install, trial boot, confirmation; the checkpoint is recorded.
 * Then the attacks, each on a fresh device with a good factory image: the device installs
 * nothing (nothing is even downloaded), keeps its image and floor, and queues one REFUSED event
 * with the attack's reason (once, however often the node repeats itself). And: a rollback after
 * an A/B fallback, freeze by a "no update" answer, a gateway sending more data than asked or the
 * wrong data, a wrong root block, a tampering gateway in front of an honest node (failover),
 * and a CIDv0 image with dag-pb leaves. */
#include "agent_test.h"
#include "http_server.h"
#include "ledger.h"

#define IMAGE_LEN 600000u /* three UnixFS leaves: 256 KiB, 256 KiB, the rest */

static struct ledger L;
static struct http_server hs;
static char root_dir[256], www[300], dev[300];
static struct fwc_port port;
static int port_open;
static struct fwc_agent agent;
static struct fwc_agent_trust trust;
static struct fwc_agent_provision prov;
static uint8_t *factory, *image, *other_image;
static uint8_t image_cid[36], other_cid[36];
static size_t image_cid_len, other_cid_len;
static struct fwc_unixfs_result image_res, other_res;

/* ---- content: UnixFS blocks into the served folder ------------------------------------------ */

static int put_block(void *ctx, const struct fwc_cid *cid, const uint8_t *block, size_t len)
{
	char text[FWC_CID_STR_MAX], name[FWC_CID_STR_MAX + 8];

	if (fwc_cid_format(text, sizeof(text), cid) != FWC_OK)
		return FWC_ERR_ARG;
	snprintf(name, sizeof(name), "raw-%s", text);
	return http_put(ctx, name, block, len) == 0 ? FWC_OK : FWC_ERR_IO;
}

/* Import img with opt (NULL: CIDv1 with raw leaves) and serve its blocks and flat file from
 * server; cid gets the root. */
static int publish_on(struct http_server *server, const struct fwc_unixfs_options *opt,
                      const uint8_t *img, size_t len, struct fwc_unixfs_result *res, uint8_t *cid,
                      size_t *cid_len)
{
	struct fwc_unixfs_sink sink = {put_block, server};
	char text[FWC_CID_STR_MAX], name[FWC_CID_STR_MAX + 8];

	if (fwc_unixfs_import(res, opt, &sink, img, len) != FWC_OK ||
	    fwc_cid_encode(cid, 36, cid_len, &res->root) != FWC_OK ||
	    fwc_cid_format(text, sizeof(text), &res->root) != FWC_OK)
		return -1;
	snprintf(name, sizeof(name), "flat-%s", text);
	return http_put(server, name, img, len);
}

static int publish(const uint8_t *img, size_t len, struct fwc_unixfs_result *res, uint8_t *cid,
                   size_t *cid_len)
{
	return publish_on(&hs, NULL, img, len, res, cid, cid_len);
}

/* ---- the ledger's answers ---------------------------------------------------------------------
 */

/* Honest ledger: leaf 0 registers {K0, K1, K2} (2 of 3) signed by R0 and R1. */
static void ledger_start(void)
{
	const struct fwc_seckey *rel[3] = {&L.rel[0], &L.rel[1], &L.rel[2]};
	const struct fwc_seckey *roots[2] = {&L.root[0], &L.root[1]};
	struct fwc_keyset ks;

	ledger_free(&L);
	l_keyset(&ks, 2, rel, 3);
	ledger_keyset(&L, FWC_ROTATE_RELEASE, 1, &ks, roots, 2);
}

/* A release of the image (or the other image) with counter, signed by K0 and K1. */
static uint64_t ledger_publish(uint64_t counter, int other)
{
	const struct fwc_seckey *s[2] = {&L.rel[0], &L.rel[1]};
	struct l_release r;

	l_release_default(&r, counter);
	r.size = other ? other_res.size : image_res.size;
	memcpy(r.sha256, other ? other_res.sha256 : image_res.sha256, 32);
	memcpy(r.cid, other ? other_cid : image_cid, 36);
	r.cid_len = other ? other_cid_len : image_cid_len;
	return ledger_release(&L, &r, s, 2, 1);
}

static uint64_t cp_time = L_T0 + 100;

/* Serve the bundle of leaf `release` (extras: leaf 0) under a checkpoint of the whole log. */
static void serve_bundle(uint64_t release, unsigned mask)
{
	uint64_t extra = 0;
	char *note = ledger_checkpoint(&L, L.n, cp_time, mask);
	size_t len = 0;
	uint8_t *b = ledger_bundle(&L, &len, release, &extra, 1, L.n, note);

	CHECK(b != NULL && http_put(&hs, "updates", b, len) == 0);
	free(b);
	free(note);
}

/* Serve a "no update" answer: the checkpoint note as text. */
static void serve_no_update(uint64_t size, uint64_t t)
{
	char *note = ledger_checkpoint(&L, size, t, 0x3);

	CHECK(note != NULL && http_put(&hs, "updates", note, strlen(note)) == 0);
	free(note);
}

/* ---- the device --------------------------------------------------------------------------------
 */

static const struct fwc_agent_record *rec(void)
{
	return fwc_agent_record(&agent);
}

/* A fresh device: the factory image in slot A, floor 42, provisioned for this ledger. */
static void device_new(void)
{
	if (port_open)
		fwc_posix_close(&port);
	test_rmtree(dev);
	CHECK(fwc_posix_format(dev, TEST_SLOT_SIZE, 4096) == FWC_OK);
	CHECK(test_open(&port, dev) == FWC_OK);
	port_open = 1;
	port.no_clock = true; /* the ledger's times are of 2023 */
	CHECK(fwc_posix_factory_write(&port, FWC_SLOT_A, factory, TEST_FACTORY_LEN) == FWC_OK);
	http_put(&hs, "requests", NULL, 0);
}

/* One check-in cycle: power on and step until idle, powering on again whenever the agent
 * reboots. Returns the number of power-ons. */
static int cycle(void)
{
	for (int n = 1; n <= 8; n++) {
		if (fwc_posix_power_on(&agent, NULL, &port, &prov) != FWC_OK)
			return -1;
		run_agent(&agent, &port, 10000);
		if (!port.reboot_requested)
			return n;
	}
	return 9;
}

static size_t count_events(uint8_t type)
{
	size_t n = 0;

	for (unsigned i = 0; i < rec()->event_count; i++)
		n += rec()->events[i].type == type;
	return n;
}

static const struct fwc_agent_event *last_event(void)
{
	return rec()->event_count ? &rec()->events[rec()->event_count - 1] : NULL;
}

static int slot_erased(uint8_t slot)
{
	static uint8_t buf[TEST_SLOT_SIZE];

	if (fwc_port_slot_read(&port, buf, TEST_SLOT_SIZE, slot, 0) != FWC_OK)
		return 0;
	for (size_t i = 0; i < TEST_SLOT_SIZE; i++)
		if (buf[i] != 0xFF)
			return 0;
	return 1;
}

/* The device refused the served answer with reason: nothing downloaded or installed, factory
 * image active, floor kept, one REFUSED event — also after a second check-in. */
static void expect_refusal(int reason, const char *what)
{
	long writes;
	size_t before;
	int ok = 1;

	device_new();
	CHECK(cycle() == 1);
	ok &= rec()->active_slot == FWC_SLOT_A && rec()->pending_slot == FWC_SLOT_NONE;
	ok &= rec()->floor == 42 && !rec()->download.active;
	ok &= count_events(FWC_AGENT_EV_REFUSED) == 1 && last_event() != NULL &&
	      last_event()->type == FWC_AGENT_EV_REFUSED && last_event()->reason == reason &&
	      last_event()->code < 0;
	ok &= slot_holds(&port, FWC_SLOT_A, factory, TEST_FACTORY_LEN) && slot_erased(FWC_SLOT_B);
	ok &= port.writes == 0 && port.erases == 0;
	/* the same answer again: no second event, no record write */
	before = rec()->event_count;
	writes = port.record_writes;
	CHECK(cycle() == 1);
	ok &= rec()->event_count == before && port.record_writes == writes;
	ok &= rec()->active_slot == FWC_SLOT_A && !rec()->download.active;
	if (!ok)
		fprintf(stderr, "refusal '%s' (want reason %d, got %d)\n", what, reason,
		        last_event() ? last_event()->reason : -1);
	CHECK(ok);
}

/* ---- tests -------------------------------------------------------------------------------------
 */

static void test_happy_path(void)
{
	uint8_t root[32], pub[32];
	char want[512], hex[65];
	size_t len = 0;
	char *reqs;

	device_new();
	ledger_start();
	ledger_publish(43, 0);
	serve_bundle(1, 0x3);
	/* power on, check in, download, install, reboot into the trial, confirm */
	CHECK(cycle() == 2);
	CHECK(rec()->active_slot == FWC_SLOT_B && rec()->pending_slot == FWC_SLOT_NONE);
	CHECK(rec()->floor == 43 && rec()->active.counter == 43);
	CHECK(rec()->active.size == IMAGE_LEN);
	CHECK_MEM(rec()->active.sha256, image_res.sha256, 32);
	CHECK(slot_holds(&port, FWC_SLOT_B, image, IMAGE_LEN));
	CHECK(slot_holds(&port, FWC_SLOT_A, factory, TEST_FACTORY_LEN));
	CHECK(count_events(FWC_AGENT_EV_CONFIRMED) == 1 && count_events(FWC_AGENT_EV_REFUSED) == 0);
	/* the checkpoint it was proven under is the newest accepted one */
	ledger_root(&L, root, L.n);
	CHECK(rec()->checkpoint.size == L.n && rec()->checkpoint.time == cp_time);
	CHECK_MEM(rec()->checkpoint.hash, root, 32);
	/* the check-in named the device, its product, hardware, channel and floor */
	CHECK(fwc_port_device_pubkey(&port, pub) == FWC_OK);
	fwc_hex_encode(hex, sizeof(hex), pub, 32);
	snprintf(want, sizeof(want),
	         "/v1/updates?product=thermo&channel=stable&hw=rev-b&counter=42&device=bip340:%s",
	         hex);
	{
		char path[600];

		snprintf(path, sizeof(path), "%s/requests", www);
		reqs = test_read_file(path, &len);
	}
	CHECK(reqs != NULL && strstr(reqs, want) != NULL);
	/* the root block, then each leaf by its CID in ranges: the leaves' bytes asked for add
	 * up to the signed size exactly */
	CHECK(reqs != NULL && strstr(reqs, "?format=raw") != NULL);
	if (reqs != NULL) {
		char rtext[FWC_CID_STR_MAX];
		long a, b, sum = 0;

		fwc_cid_format(rtext, sizeof(rtext), &image_res.root);
		for (char *p = reqs; (p = strstr(p, "/ipfs/")) != NULL; p++) {
			char *sp = strchr(p, ' ');

			if (strncmp(p + 6, rtext, strlen(rtext)) == 0)
				continue; /* the root */
			if (sp != NULL && sscanf(sp, " %ld-%ld", &a, &b) == 2)
				sum += b - a + 1;
		}
		CHECK(sum == (long)IMAGE_LEN);
	}
	free(reqs);
	/* the next check-in offers the same release: rollback refused, nothing else changes */
	CHECK(cycle() == 1);
	CHECK(rec()->active_slot == FWC_SLOT_B && last_event()->type == FWC_AGENT_EV_REFUSED &&
	      last_event()->reason == FWC_AGENT_REFUSE_ROLLBACK);
}

static void test_attacks(void)
{
	const struct fwc_seckey *rel[3] = {&L.rel[0], &L.rel[1], &L.rel[2]};
	const struct fwc_seckey *roots[2] = {&L.root[0], &L.root[1]};
	struct fwc_keyset ks;
	struct l_release r;
	uint64_t idx;

	/* an image signed by keys the product does not know */
	{
		const struct fwc_seckey *s[2] = {&L.rel[3], &L.other};

		ledger_start();
		l_release_default(&r, 43);
		r.size = image_res.size;
		memcpy(r.sha256, image_res.sha256, 32);
		memcpy(r.cid, image_cid, 36);
		idx = ledger_release(&L, &r, s, 2, 1);
		serve_bundle(idx, 0x3);
		expect_refusal(FWC_AGENT_REFUSE_UNKNOWN_KEY, "unknown key");
	}
	/* one release key against 2 of 3 */
	{
		const struct fwc_seckey *s[1] = {&L.rel[2]};

		ledger_start();
		l_release_default(&r, 43);
		memcpy(r.cid, image_cid, 36);
		idx = ledger_release(&L, &r, s, 1, 1);
		serve_bundle(idx, 0x3);
		expect_refusal(FWC_AGENT_REFUSE_BELOW_THRESHOLD, "one key");
	}
	/* one release key listed twice (the signed manifest cannot hold it: malformed) */
	{
		const struct fwc_seckey *s[2] = {&L.rel[1], &L.rel[1]};

		ledger_start();
		l_release_default(&r, 43);
		idx = ledger_release(&L, &r, s, 2, 0);
		serve_bundle(idx, 0x3);
		expect_refusal(FWC_AGENT_REFUSE_BAD_TX, "key twice");
	}
	/* a key revoked by the current release set */
	{
		const struct fwc_seckey *s[2] = {&L.rel[0], &L.rel[1]};
		struct fwc_pubkey k0 = l_pub(&L.rel[0]);
		uint64_t extra[2] = {0, 1};
		char *note;
		uint8_t *b;
		size_t len = 0;

		ledger_start();
		l_keyset(&ks, 2, rel, 3);
		ks.revoked[fwc_keyset_find(&ks, &k0)] = 1;
		ledger_keyset(&L, FWC_ROTATE_RELEASE, 2, &ks, roots, 2);
		l_release_default(&r, 43);
		idx = ledger_release(&L, &r, s, 2, 1);
		note = ledger_checkpoint(&L, L.n, cp_time, 0x3);
		b = ledger_bundle(&L, &len, idx, extra, 2, L.n, note);
		http_put(&hs, "updates", b, len);
		free(b);
		free(note);
		expect_refusal(FWC_AGENT_REFUSE_REVOKED_KEY, "revoked key");
	}
	/* an older release: rollback */
	ledger_start();
	idx = ledger_publish(40, 0);
	serve_bundle(idx, 0x3);
	expect_refusal(FWC_AGENT_REFUSE_ROLLBACK, "rollback");
	/* too few cosignatures, an invalid one */
	ledger_start();
	idx = ledger_publish(43, 0);
	serve_bundle(idx, 0x1);
	expect_refusal(FWC_AGENT_REFUSE_QUORUM, "one cosignature");
	{
		char *note = ledger_checkpoint(&L, L.n, cp_time, 0x3);
		char *c = strstr(note, "validator-0 ") + 30;
		uint64_t extra = 0;
		uint8_t *b;
		size_t len = 0;

		*c = *c == 'A' ? 'B' : 'A';
		b = ledger_bundle(&L, &len, idx, &extra, 1, L.n, note);
		http_put(&hs, "updates", b, len);
		free(b);
		free(note);
		expect_refusal(FWC_AGENT_REFUSE_BAD_COSIGNATURE, "bad cosignature");
	}
	/* an altered inclusion path */
	{
		struct fwc_bundle x;
		uint8_t *b, out[8192];
		uint64_t extra = 0;
		char *note;
		size_t len = 0, olen = 0;

		ledger_tx(&L, FWC_TX_CONFIG_UPDATE, (const uint8_t *)"\xa0", 1);
		note = ledger_checkpoint(&L, L.n, cp_time, 0x3);
		b = ledger_bundle(&L, &len, idx, &extra, 1, L.n, note);
		CHECK(fwc_bundle_decode(&x, b, len, NULL) == FWC_OK);
		memcpy(out, b, len);
		out[(size_t)((const uint8_t *)x.release.path[0] - b) + 3] ^= 1;
		olen = len;
		http_put(&hs, "updates", out, olen);
		free(b);
		free(note);
		expect_refusal(FWC_AGENT_REFUSE_INCLUSION, "altered path");
	}
	/* a manifest of another product, another hardware */
	{
		const struct fwc_seckey *s[2] = {&L.rel[0], &L.rel[1]};

		ledger_start();
		l_release_default(&r, 43);
		r.product = "toaster";
		idx = ledger_release(&L, &r, s, 2, 1);
		serve_bundle(idx, 0x3);
		expect_refusal(FWC_AGENT_REFUSE_WRONG_PRODUCT, "product");
		ledger_start();
		l_release_default(&r, 43);
		r.hw2 = "rev-z";
		idx = ledger_release(&L, &r, s, 2, 1);
		serve_bundle(idx, 0x3);
		expect_refusal(FWC_AGENT_REFUSE_WRONG_HARDWARE, "hardware");
		/* a signed size above the slot */
		ledger_start();
		l_release_default(&r, 43);
		r.size = TEST_SLOT_SIZE + 1;
		idx = ledger_release(&L, &r, s, 2, 1);
		serve_bundle(idx, 0x3);
		expect_refusal(FWC_AGENT_REFUSE_SIZE_EXCEEDED, "size");
		/* a licensed or encrypted release: verified, then refused by the device's policy */
		ledger_start();
		l_release_default(&r, 43);
		memcpy(r.cid, image_cid, 36);
		r.size = image_res.size;
		r.encrypted = 1;
		idx = ledger_release(&L, &r, s, 2, 1);
		serve_bundle(idx, 0x3);
		expect_refusal(FWC_AGENT_REFUSE_ENCRYPTED, "encrypted");
	}
	/* garbage instead of a bundle */
	http_put(&hs, "updates", "\xff\x00garbage", 9);
	expect_refusal(FWC_AGENT_REFUSE_MALFORMED, "garbage");
}

/* Freeze: once a checkpoint is accepted, an older one is refused, by size or by time; with a
 * clock, one older than the maximum age is refused too. */
static void test_freeze(void)
{
	struct fwc_agent_checkpoint first;

	device_new();
	ledger_start();
	ledger_publish(43, 0);
	ledger_tx(&L, FWC_TX_CONFIG_UPDATE, (const uint8_t *)"\xa0", 1);
	/* "no update" with a checkpoint of 3 leaves: recorded */
	serve_no_update(3, L_T0 + 500);
	CHECK(cycle() == 1);
	CHECK(rec()->checkpoint.size == 3 && rec()->checkpoint.time == L_T0 + 500);
	CHECK(rec()->event_count == 0 && rec()->active_slot == FWC_SLOT_A);
	first = rec()->checkpoint;
	/* the release under an older, validly cosigned checkpoint of 2 leaves */
	{
		uint64_t extra = 0;
		char *note = ledger_checkpoint(&L, 2, L_T0 + 100, 0x3);
		size_t len = 0;
		uint8_t *b = ledger_bundle(&L, &len, 1, &extra, 1, 2, note);

		http_put(&hs, "updates", b, len);
		free(b);
		free(note);
	}
	CHECK(cycle() == 1);
	CHECK(last_event() != NULL && last_event()->reason == FWC_AGENT_REFUSE_STALE_CHECKPOINT);
	CHECK(rec()->active_slot == FWC_SLOT_A && !rec()->download.active);
	CHECK(memcmp(&rec()->checkpoint, &first, sizeof(first)) == 0);
	/* the same tree, cosigned earlier */
	serve_no_update(3, L_T0 + 400);
	CHECK(cycle() == 1);
	CHECK(last_event()->reason == FWC_AGENT_REFUSE_STALE_CHECKPOINT);
	/* a newer "no update" by less than the minimum advance is not written */
	{
		long w = port.record_writes;

		serve_no_update(3, L_T0 + 600);
		CHECK(cycle() == 1);
		CHECK(port.record_writes == w && rec()->checkpoint.time == L_T0 + 500);
		serve_no_update(3, L_T0 + 500 + FWC_AGENT_CHECKPOINT_MIN_ADVANCE);
		CHECK(cycle() == 1);
		CHECK(rec()->checkpoint.time == L_T0 + 500 + FWC_AGENT_CHECKPOINT_MIN_ADVANCE);
	}
	/* with the clock on: the ledger's 2023 checkpoints are far older than a day */
	device_new();
	port.no_clock = false;
	trust.max_age = 86400;
	serve_bundle(1, 0x3);
	CHECK(cycle() == 1);
	CHECK(last_event() != NULL && last_event()->reason == FWC_AGENT_REFUSE_CHECKPOINT_TOO_OLD);
	CHECK(rec()->active_slot == FWC_SLOT_A && !rec()->download.active);
	trust.max_age = 0;
	port.no_clock = true;
	/* nothing at all (404): no event */
	device_new();
	http_put(&hs, "updates", NULL, 0);
	CHECK(cycle() == 1);
	CHECK(rec()->event_count == 0 && fwc_agent_last_error(&agent) == FWC_ERR_NOT_FOUND);
}

/* An older release after an A/B fallback: the floor stayed at the confirmed release. */
static void test_rollback_after_fallback(void)
{
	char marker[400];
	uint64_t v44, v42;

	device_new();
	ledger_start();
	ledger_publish(43, 0);
	serve_bundle(1, 0x3);
	CHECK(cycle() == 2);
	CHECK(rec()->active_slot == FWC_SLOT_B && rec()->floor == 43);
	/* release 44 goes to slot A and fails its health check on every trial boot */
	v44 = ledger_publish(44, 1);
	serve_bundle(v44, 0x3);
	snprintf(marker, sizeof(marker), "%s/unhealthy-a", dev);
	CHECK(test_write_file(marker, (const uint8_t *)"x", 1) == 0);
	/* power-ons until the rollback is done and B runs again, stopping before the next
	 * check-in (which would offer 44 again) */
	for (int n = 0; n < 10; n++) {
		CHECK(fwc_posix_power_on(&agent, NULL, &port, &prov) == FWC_OK);
		if (n > 0 && fwc_agent_state(&agent) == FWC_AGENT_IDLE &&
		    count_events(FWC_AGENT_EV_ROLLED_BACK) == 1)
			break;
		run_agent(&agent, &port, 10000);
	}
	CHECK(rec()->active_slot == FWC_SLOT_B && rec()->pending_slot == FWC_SLOT_NONE);
	CHECK(rec()->floor == 43 && count_events(FWC_AGENT_EV_ROLLED_BACK) == 1);
	unlink(marker);
	CHECK(slot_holds(&port, FWC_SLOT_B, image, IMAGE_LEN));
	/* the older release 42, and 43 again: both below or at the floor */
	v42 = ledger_publish(42, 1);
	serve_bundle(v42, 0x3);
	CHECK(cycle() == 1);
	CHECK(last_event()->type == FWC_AGENT_EV_REFUSED &&
	      last_event()->reason == FWC_AGENT_REFUSE_ROLLBACK && last_event()->counter == 0);
	serve_bundle(1, 0x3);
	CHECK(cycle() == 1);
	CHECK(last_event()->reason == FWC_AGENT_REFUSE_ROLLBACK);
	CHECK(rec()->active_slot == FWC_SLOT_B && rec()->floor == 43 && !rec()->download.active);
	CHECK(slot_holds(&port, FWC_SLOT_B, image, IMAGE_LEN));
}

/* The gateway: more bytes than asked never reach the slot; wrong bytes are not installed; a
 * root block that does not hash to the CID is not used. */
static void test_gateway(void)
{
	char text[FWC_CID_STR_MAX], name[FWC_CID_STR_MAX + 8];
	uint8_t *tail;

	/* a source sending 64 KiB more after every range */
	device_new();
	ledger_start();
	ledger_publish(43, 0);
	serve_bundle(1, 0x3);
	http_put(&hs, "flood", "1", 1);
	CHECK(cycle() == 2);
	http_put(&hs, "flood", NULL, 0);
	CHECK(rec()->active_slot == FWC_SLOT_B && rec()->active.counter == 43);
	CHECK(slot_holds(&port, FWC_SLOT_B, image, IMAGE_LEN));
	tail = malloc(TEST_SLOT_SIZE - IMAGE_LEN);
	CHECK(fwc_port_slot_read(&port, tail, TEST_SLOT_SIZE - IMAGE_LEN, FWC_SLOT_B, IMAGE_LEN) ==
	      FWC_OK);
	for (size_t i = 0; i < TEST_SLOT_SIZE - IMAGE_LEN; i++)
		if (tail[i] != 0xFF) {
			CHECK(!"slot written past the signed size");
			break;
		}
	free(tail);

	/* a leaf replaced by the other image's (mix and match), longer than the leaf */
	device_new();
	fwc_cid_format(text, sizeof(text), &image_res.root);
	{
		struct fwc_cid leaf;
		char lt[FWC_CID_STR_MAX];
		uint8_t *saved;
		size_t slen = 0;
		char path[700];

		test_leaf_cid(&leaf, image, IMAGE_LEN, FWC_UNIXFS_CHUNK_SIZE, 1);
		fwc_cid_format(lt, sizeof(lt), &leaf);
		snprintf(name, sizeof(name), "raw-%s", lt);
		snprintf(path, sizeof(path), "%s/%s", www, name);
		saved = (uint8_t *)test_read_file(path, &slen);
		CHECK(saved != NULL);
		http_put(&hs, name, other_image, FWC_UNIXFS_CHUNK_SIZE + 1000);
		CHECK(cycle() == 1);
		CHECK(rec()->active_slot == FWC_SLOT_A && rec()->pending_slot == FWC_SLOT_NONE);
		CHECK(!rec()->download.active && count_events(FWC_AGENT_EV_DOWNLOAD_FAILED) == 1);
		CHECK(last_event()->code == FWC_ERR_HASH_MISMATCH);
		CHECK(slot_holds(&port, FWC_SLOT_A, factory, TEST_FACTORY_LEN));
		if (saved != NULL)
			http_put(&hs, name, saved, slen);
		free(saved);
	}

	/* a root block that is not the CID's: a transport failure, no event, nothing fetched */
	device_new();
	snprintf(name, sizeof(name), "raw-%s", text);
	{
		size_t len = 0;
		char path[700];
		uint8_t *blk;

		snprintf(path, sizeof(path), "%s/%s", www, name);
		blk = (uint8_t *)test_read_file(path, &len);
		CHECK(blk != NULL);
		blk[len - 1] ^= 1;
		http_put(&hs, name, blk, len);
		CHECK(cycle() == 1);
		CHECK(rec()->event_count == 0 && rec()->active_slot == FWC_SLOT_A);
		CHECK(fwc_agent_last_error(&agent) == FWC_ERR_HASH_MISMATCH);
		CHECK(port.writes == 0);
		blk[len - 1] ^= 1;
		http_put(&hs, name, blk, len);
		free(blk);
	}
}

/* The sources: a dead gateway, a mirror serving a tampered leaf, the honest node last. The bad
 * block is taken from the next source, which is kept, and the install completes.
 * Then a CIDv0 image with dag-pb leaves, checked and installed through the same path. */
static void test_sources(void)
{
	static struct http_server mirror;
	struct fwc_unixfs_result res, v0res;
	struct fwc_unixfs_options o;
	struct fwc_agent_url m;
	struct fwc_cid leaf;
	char www2[400], lt[FWC_CID_STR_MAX], name[FWC_CID_STR_MAX + 8], path[700];
	uint8_t cid[36], v0cid[36];
	size_t cid_len = 0, v0cid_len = 0, len = 0;
	char *reqs;

	snprintf(www2, sizeof(www2), "%s/www2", root_dir);
	mkdir(www2, 0700);
	CHECK(http_start(&mirror, www2) == 0);
	CHECK(publish_on(&mirror, NULL, image, IMAGE_LEN, &res, cid, &cid_len) == 0);
	test_leaf_cid(&leaf, image, IMAGE_LEN, FWC_UNIXFS_CHUNK_SIZE, 1);
	fwc_cid_format(lt, sizeof(lt), &leaf);
	snprintf(name, sizeof(name), "raw-%s", lt);
	{
		uint8_t *bad = malloc(FWC_UNIXFS_CHUNK_SIZE);

		memcpy(bad, image + FWC_UNIXFS_CHUNK_SIZE, FWC_UNIXFS_CHUNK_SIZE);
		bad[1000] ^= 0x40;
		http_put(&mirror, name, bad, FWC_UNIXFS_CHUNK_SIZE);
		free(bad);
	}
	m.url = mirror.url;
	m.len = strlen(mirror.url);
	prov.gateway_url = "http://127.0.0.1:1";
	prov.gateway_url_len = strlen(prov.gateway_url);
	prov.mirrors = &m;
	prov.mirror_count = 1;

	device_new();
	http_put(&mirror, "requests", NULL, 0);
	ledger_start();
	ledger_publish(43, 0);
	serve_bundle(1, 0x3);
	CHECK(cycle() == 2);
	CHECK(rec()->active_slot == FWC_SLOT_B && rec()->active.counter == 43);
	CHECK(slot_holds(&port, FWC_SLOT_B, image, IMAGE_LEN));
	CHECK(count_events(FWC_AGENT_EV_DOWNLOAD_FAILED) == 0);
	/* the mirror was asked for leaf 1 (tampered), the node for leaves 1 and 2, not 0 */
	snprintf(path, sizeof(path), "%s/requests", www2);
	reqs = test_read_file(path, &len);
	CHECK(reqs != NULL && strstr(reqs, lt) != NULL);
	free(reqs);
	snprintf(path, sizeof(path), "%s/requests", www);
	reqs = test_read_file(path, &len);
	CHECK(reqs != NULL && strstr(reqs, lt) != NULL);
	test_leaf_cid(&leaf, image, IMAGE_LEN, FWC_UNIXFS_CHUNK_SIZE, 2);
	fwc_cid_format(lt, sizeof(lt), &leaf);
	CHECK(reqs != NULL && strstr(reqs, lt) != NULL);
	test_leaf_cid(&leaf, image, IMAGE_LEN, FWC_UNIXFS_CHUNK_SIZE, 0);
	fwc_cid_format(lt, sizeof(lt), &leaf);
	CHECK(reqs != NULL && strstr(reqs, lt) == NULL);
	free(reqs);
	prov.gateway_url = NULL;
	prov.gateway_url_len = 0;
	prov.mirrors = NULL;
	prov.mirror_count = 0;
	http_stop(&mirror);

	/* CIDv0 ("Qm..."), dag-pb leaves of 256 KiB */
	fwc_unixfs_options_default(&o, 0);
	CHECK(publish_on(&hs, &o, image, IMAGE_LEN, &v0res, v0cid, &v0cid_len) == 0);
	CHECK(v0res.root.version == 0 && v0cid_len == 34);
	device_new();
	ledger_start();
	{
		const struct fwc_seckey *s[2] = {&L.rel[0], &L.rel[1]};
		struct l_release r;

		l_release_default(&r, 43);
		r.size = v0res.size;
		memcpy(r.sha256, v0res.sha256, 32);
		memcpy(r.cid, v0cid, v0cid_len);
		r.cid_len = v0cid_len;
		serve_bundle(ledger_release(&L, &r, s, 2, 1), 0x3);
	}
	CHECK(cycle() == 2);
	CHECK(rec()->active_slot == FWC_SLOT_B && rec()->active.counter == 43);
	CHECK(slot_holds(&port, FWC_SLOT_B, image, IMAGE_LEN));
	CHECK(count_events(FWC_AGENT_EV_CONFIRMED) == 1 && count_events(FWC_AGENT_EV_REFUSED) == 0);

	/* a one-block CIDv0 image: the root is a dag-pb leaf, checked whole at check-in */
	CHECK(publish_on(&hs, &o, image, 5000, &v0res, v0cid, &v0cid_len) == 0);
	device_new();
	ledger_start();
	{
		const struct fwc_seckey *s[2] = {&L.rel[0], &L.rel[1]};
		struct l_release r;

		l_release_default(&r, 43);
		r.size = v0res.size;
		memcpy(r.sha256, v0res.sha256, 32);
		memcpy(r.cid, v0cid, v0cid_len);
		r.cid_len = v0cid_len;
		serve_bundle(ledger_release(&L, &r, s, 2, 1), 0x3);
	}
	CHECK(cycle() == 2);
	CHECK(rec()->active_slot == FWC_SLOT_B && rec()->active.size == 5000);
	CHECK(slot_holds(&port, FWC_SLOT_B, image, 5000));
}

/* The last event report the node received: the transaction and the event in it, decoded and
 * verified with libfwchain. Returns 1 when there is one, the transaction's signature is the
 * device key's and the event is the device's own in the self-reported form (payload field 2:
 * the body, covered by that one signature; docs/formats/payloads.md). */
static int last_report(struct fwc_signed_tx *stx, struct fwc_event *ev, uint8_t **raw)
{
	struct fwc_pl_device_event pl;
	struct fwc_pubkey dev_key;
	char path[700];
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/posted-last", www);
	*raw = (uint8_t *)test_read_file(path, &len);
	if (*raw == NULL)
		return 0;
	dev_key.alg = FWC_ALG_BIP340;
	return fwc_port_device_pubkey(&port, dev_key.key) == FWC_OK &&
	       fwc_tx_decode(stx, *raw, len, NULL) == FWC_OK &&
	       fwc_tx_verify(stx, NULL) == FWC_OK && stx->tx.type == FWC_TX_DEVICE_EVENT &&
	       fwc_pubkey_equal(&stx->tx.sender, &dev_key) &&
	       stx->tx.chain_id.len == strlen(L_CHAIN) &&
	       memcmp(stx->tx.chain_id.p, L_CHAIN, strlen(L_CHAIN)) == 0 &&
	       fwc_pl_device_event_decode(&pl, stx->tx.payload.p, stx->tx.payload.len, NULL) ==
	           FWC_OK &&
	       pl.event.len == 0 &&
	       fwc_event_body_decode(ev, pl.body.p, pl.body.len, NULL) == FWC_OK &&
	       fwc_pubkey_equal(&ev->device, &dev_key);
}

static void post_answer(const char *a)
{
	http_put(&hs, "post-answer", a, strlen(a));
}

static int detail_is(const struct fwc_event *ev, const char *want)
{
	return ev->detail.len == strlen(want) && memcmp(ev->detail.p, want, ev->detail.len) == 0;
}

/* Events reach the ledger: each a device-signed event in a transaction of the device, with
 * the nonces the ledger wants. */
static void test_reports(void)
{
	struct fwc_signed_tx stx;
	struct fwc_event ev;
	uint8_t *raw = NULL;
	char path[700];

	http_put(&hs, "post-block", NULL, 0);
	device_new();
	ledger_start();
	ledger_publish(43, 0);
	serve_bundle(1, 0x3);
	CHECK(cycle() == 2);
	/* the confirmation: reported and gone from the queue, nonce 1 used */
	CHECK(rec()->event_count == 0 && rec()->tx_nonce == 2);
	CHECK(last_report(&stx, &ev, &raw));
	CHECK(stx.tx.nonce == 1 && ev.seq == 1 && ev.kind == FWC_EVENT_CONFIRMED);
	CHECK(ev.has_counter && ev.counter == 43 && detail_is(&ev, "confirmed"));
	/* without a clock: the event has no time, the transaction the accepted checkpoint's */
	CHECK(ev.time == 0 && stx.tx.time == cp_time);
	free(raw);
	/* the same release again: a refusal, reported with the next nonce */
	CHECK(cycle() == 1);
	CHECK(rec()->event_count == 0 && rec()->tx_nonce == 3);
	CHECK(last_report(&stx, &ev, &raw));
	CHECK(stx.tx.nonce == 2 && ev.seq == 2 && ev.kind == FWC_EVENT_FAILED && !ev.has_counter);
	CHECK(detail_is(&ev, "refused rollback -27"));
	free(raw);
	/* repeated by the node within one power-on: not queued nor reported again */
	snprintf(path, sizeof(path), "%s/posted-last", www);
	unlink(path);
	run_agent(&agent, &port, 100);
	CHECK(access(path, F_OK) != 0 && rec()->event_count == 0);

	/* the node says the nonce was used (a report whose commit a reset lost) and names the
	 * next one: the device takes it and sends the event again */
	serve_bundle(1, 0x1); /* quorum refusal */
	post_answer(
	    "400 {\"code\":\"nonce_replay\",\"message\":\"nonce 3 was used; the next is 7\"}");
	CHECK(cycle() == 1);
	CHECK(last_report(&stx, &ev, &raw));
	CHECK(stx.tx.nonce == 7 && detail_is(&ev, "refused quorum -20"));
	CHECK(rec()->event_count == 0 && rec()->tx_nonce == 8);
	free(raw);
	/* a gap without a hint: one back */
	ledger_tx(&L, FWC_TX_CONFIG_UPDATE, (const uint8_t *)"\xa0", 1);
	serve_no_update(2, L_T0 + 50); /* stale */
	post_answer("400 {\"code\":\"nonce_gap\"}");
	CHECK(cycle() == 1);
	CHECK(last_report(&stx, &ev, &raw));
	CHECK(stx.tx.nonce == 7 && detail_is(&ev, "refused stale_checkpoint -27"));
	CHECK(rec()->event_count == 0 && rec()->tx_nonce == 8);
	free(raw);
	/* refused for a reason the device cannot repair: the event stays queued */
	serve_bundle(1, 0x0);
	post_answer("400 {\"code\":\"unknown_sender\"}");
	CHECK(cycle() == 1);
	CHECK(rec()->event_count == 1 && rec()->tx_nonce == 8);
	CHECK(fwc_agent_last_error(&agent) == FWC_ERR_PERMISSIONS);
	/* and goes out with the next report */
	CHECK(cycle() == 1);
	CHECK(rec()->event_count == 0 && rec()->tx_nonce == 9);
	http_put(&hs, "post-block", "1", 1);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (ledger_init(&L) != 0 || test_mkdtemp(root_dir, sizeof(root_dir), "checkin") != 0) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	snprintf(www, sizeof(www), "%s/www", root_dir);
	snprintf(dev, sizeof(dev), "%s/dev", root_dir);
	mkdir(www, 0700);
	if (http_start(&hs, www) != 0) {
		fprintf(stderr, "cannot start the HTTP server\n");
		return 1;
	}
	factory = malloc(TEST_FACTORY_LEN);
	image = malloc(IMAGE_LEN);
	other_image = malloc(IMAGE_LEN + 1000);
	test_pattern(factory, TEST_FACTORY_LEN, 1);
	test_pattern(image, IMAGE_LEN, 2);
	test_pattern(other_image, IMAGE_LEN + 1000, 3);
	if (publish(image, IMAGE_LEN, &image_res, image_cid, &image_cid_len) != 0 ||
	    publish(other_image, IMAGE_LEN, &other_res, other_cid, &other_cid_len) != 0) {
		fprintf(stderr, "cannot publish the images\n");
		return 1;
	}
	/* the node takes no event reports (events stay queued, as most tests inspect them);
	 * test_reports lets them through */
	http_put(&hs, "post-block", "1", 1);
	trust = L.trust;
	trust.max_age = 0;
	prov.factory_floor = 42;
	prov.trust = &trust;
	prov.id = L.id;
	prov.node_url = hs.url;
	prov.node_url_len = strlen(hs.url);
	RUN(test_happy_path);
	RUN(test_attacks);
	RUN(test_freeze);
	RUN(test_rollback_after_fallback);
	RUN(test_gateway);
	RUN(test_sources);
	RUN(test_reports);
	http_stop(&hs);
	if (port_open)
		fwc_posix_close(&port);
	ledger_free(&L);
	free(factory);
	free(image);
	free(other_image);
	test_rmtree(root_dir);
	return test_done();
}
