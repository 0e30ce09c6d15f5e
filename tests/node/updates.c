/* Tests node/updates.c on a real chain (in process, every wait bounded): the check-in answer is
 * a bundle that fwc_bundle_verify accepts against the validator key and whose release
 * transaction is the one submitted; the cache's promises, measured with the database's query
 * counter: a repeated check-in and a "no update" answer run no SQLite query, an idle block (new
 * checkpoint, same tree) is spliced in without SQLite and the bundle carries the new
 * checkpoint, a larger tree rebuilds only the paths (a few queries), and a new release is
 * picked up at once; 503 before the first commit. */
#include "test.h"

#include "chain.h"
#include "db.h"
#include "txgen.h"
#include "updates.h"

#include <time.h>
#include <unistd.h>

#include "fwchain/bundle.h"
#include "fwchain/note.h"

#define VNAME "upd-test/validator-0"

static char dir[] = "/tmp/fwc-updtest-XXXXXX";
static struct node_chain *chain;
static struct node_db *db;
static struct node_updates *upd;
static struct fwc_seckey vsk;
static struct fwc_note_vkey vkey;
static struct txg_actor act[6]; /* 0 root admin, 1 release member, 2 root key, 4 release key */
static char chain_id[] = "upd-test";
static struct node_http_response resp;

static int submit(struct txg_actor *a, uint32_t type, const uint8_t *pl, size_t pl_len,
                  uint8_t *txout, size_t *txlen, uint8_t id[32])
{
	static uint8_t tx[FWC_TX_MAX];
	struct node_refusal r;
	size_t len = 0;
	int rc = txg_tx(tx, sizeof(tx), &len, a, type, a->nonce + 1, chain_id, (uint64_t)time(NULL),
	                pl, pl_len);

	if (rc == FWC_OK)
		rc = node_chain_submit(chain, id, &r, tx, len);
	if (rc != FWC_OK) {
		fprintf(stderr, "submit: %s %s\n", r.code, r.msg);
		return rc;
	}
	a->nonce++;
	if (txout) {
		memcpy(txout, tx, len);
		*txlen = len;
	}
	return FWC_OK;
}

static int wait_committed(const uint8_t id[32])
{
	for (int i = 0; i < 500; i++) {
		if (node_chain_tx_where(chain, id, NULL) == NODE_TX_COMMITTED)
			return 0;
		usleep(10000);
	}
	return -1;
}

static int wait_height_above(uint64_t h)
{
	for (int i = 0; i < 500; i++) {
		uint64_t got = 0;

		node_chain_head(chain, &got, NULL, NULL, NULL, NULL);
		if (got > h)
			return 0;
		usleep(10000);
	}
	return -1;
}

/* GET /v1/updates?query through the handler; the answer is in resp. */
static void checkin(const char *query)
{
	struct node_http_request req;
	char target[512], pb[600], qb[600];

	snprintf(target, sizeof(target), "/v1/updates?%s", query);
	node_http_response_cleanup(&resp);
	memset(&resp, 0, sizeof(resp));
	memset(&req, 0, sizeof(req));
	if (node_http_parse_target(&req, pb, sizeof(pb), qb, sizeof(qb), target, strlen(target),
	                           NULL) != FWC_OK)
		return;
	req.method = "GET";
	node_updates_handle(upd, &resp, &req);
}

/* The answer is a bundle of tx[0..len) that verifies; *note_out (optional) gets its note. */
static int bundle_ok(const uint8_t *tx, size_t len, char *note_out, size_t cap)
{
	struct fwc_bundle b;
	struct fwc_bundle_trust trust;
	static struct fwc_bundle_report rep;
	uint8_t leaf[32];

	if (resp.status != 200 || resp.content_type == NULL ||
	    strcmp(resp.content_type, "application/cbor") != 0 ||
	    fwc_bundle_decode(&b, (const uint8_t *)resp.body, resp.body_len, NULL) != FWC_OK)
		return 0;
	memset(&trust, 0, sizeof(trust));
	trust.verifiers = &vkey;
	trust.n_verifiers = 1;
	trust.quorum = 1;
	trust.origin = chain_id;
	trust.origin_len = strlen(chain_id);
	fwc_merkle_leaf_hash(leaf, tx, len);
	if (fwc_bundle_verify(&rep, &b, &trust, leaf, NULL) != FWC_OK)
		return 0;
	if (note_out)
		snprintf(note_out, cap, "%.*s", (int)b.checkpoint_len, b.checkpoint);
	return b.n_extra == 1;
}

static void test_checkin(void)
{
	static uint8_t pl[FWC_TX_PAYLOAD_MAX], rel[FWC_TX_MAX], rel2[FWC_TX_MAX];
	const struct txg_actor *roots[] = {&act[2]}, *rels[] = {&act[4]};
	struct node_updates_stats s0, s1;
	uint8_t id[32], rid[32];
	size_t n = 0, rel_len = 0, rel2_len = 0;
	uint64_t q0, h = 0;
	char etag[NODE_HTTP_ETAG_MAX], note[4096], *head = NULL;
	const char *q = "product=thermo&channel=stable&hw=rev-b&counter=0";

	CHECK_RC(txg_member_add(pl, sizeof(pl), &n, &act[1].pk, FWC_ROLE_RELEASE, NULL), FWC_OK);
	CHECK_RC(submit(&act[0], FWC_TX_MEMBER_ADD, pl, n, NULL, NULL, id), FWC_OK);
	CHECK_RC(txg_product(pl, sizeof(pl), &n, "thermo", 1, roots, 1), FWC_OK);
	CHECK_RC(submit(&act[0], FWC_TX_PRODUCT_REGISTER, pl, n, NULL, NULL, id), FWC_OK);
	CHECK_RC(txg_statement(pl, sizeof(pl), &n, "thermo", FWC_ROTATE_RELEASE, 1, 1, rels, 1,
	                       roots, 1),
	         FWC_OK);
	CHECK_RC(submit(&act[0], FWC_TX_KEYSET_REGISTER, pl, n, NULL, NULL, id), FWC_OK);
	CHECK(wait_committed(id) == 0);
	CHECK_RC(txg_release(pl, sizeof(pl), &n, "thermo", "stable", 3, 1700000000, NULL, rels, 1,
	                     rid, NULL, NULL),
	         FWC_OK);
	CHECK_RC(submit(&act[1], FWC_TX_RELEASE, pl, n, rel, &rel_len, id), FWC_OK);
	CHECK(wait_committed(id) == 0);

	/* First check-in: built from the ledger. */
	node_updates_stats(upd, &s0);
	checkin(q);
	CHECK(bundle_ok(rel, rel_len, NULL, 0));
	node_updates_stats(upd, &s1);
	CHECK(s1.misses == s0.misses + 1);
	snprintf(etag, sizeof(etag), "%s", resp.etag);
	CHECK(strncmp(etag, "\"u-", 3) == 0);

	/* Again, and a device already at counter 3: no query at all. The query counter is the
	 * whole process's and the bundle carries the newest checkpoint, so a window in which the
	 * producer made an (idle) block, or whose numbers a block's commit hook disturbed, is
	 * measured again, at most 20 times. */
	for (int attempt = 0; attempt < 20; attempt++) {
		uint64_t h0 = 0, h1 = 0, q1, q2;
		char e_first[80];

		node_chain_head(chain, &h0, NULL, NULL, NULL, NULL);
		q0 = node_db_query_count(db);
		checkin(q);
		CHECK(bundle_ok(rel, rel_len, NULL, 0));
		snprintf(e_first, sizeof(e_first), "%s", resp.etag);
		checkin("product=thermo&channel=stable&hw=rev-b&counter=3");
		CHECK(resp.status == 200 && strncmp(resp.content_type, "text/plain", 10) == 0);
		CHECK(strncmp(resp.body, "upd-test\n", 9) == 0 && strncmp(resp.etag, "\"c-", 3) == 0);
		checkin("product=thermo&channel=stable&hw=rev-z&counter=0");
		CHECK(resp.status == 200 && strncmp(resp.content_type, "text/plain", 10) == 0);
		checkin(q);
		q1 = node_db_query_count(db);
		checkin(q);
		checkin("product=thermo&channel=stable&hw=rev-b&counter=7");
		q2 = node_db_query_count(db);
		node_chain_head(chain, &h1, NULL, NULL, NULL, NULL);
		/* a block's commit hook invalidates the cache a moment after the head moves, so a
		 * window can be disturbed with h1 == h0 too: one clean window of 20 is required */
		if ((h1 != h0 || q1 - q0 > 3 || q2 != q1) && attempt < 19)
			continue;
		CHECK(q1 - q0 <= 3); /* the rev-z miss is the only reader */
		CHECK(q2 == q1);
		checkin(q); /* a hit in the same window gives the same ETag */
		node_chain_head(chain, &h1, NULL, NULL, NULL, NULL);
		CHECK(h1 != h0 || strcmp(resp.etag, e_first) == 0);
		break;
	}
	node_updates_stats(upd, &s0);
	CHECK(s0.hits >= s1.hits + 4);

	/* An idle block: same tree, new checkpoint, spliced in without SQLite. */
	node_chain_head(chain, &h, NULL, NULL, NULL, NULL);
	CHECK(wait_height_above(h) == 0);
	usleep(50000); /* the commit hook runs right after the commit */
	q0 = node_db_query_count(db);
	checkin(q);
	CHECK(node_db_query_count(db) == q0);
	CHECK(bundle_ok(rel, rel_len, note, sizeof(note)) && strcmp(resp.etag, etag) != 0);
	node_chain_head(chain, NULL, NULL, NULL, &head, NULL);
	CHECK(head && strcmp(note, head) == 0);
	free(head);
	node_updates_stats(upd, &s1);
	CHECK(s1.splices == s0.splices + 1);

	/* A larger tree (an unrelated transaction): only the paths are redone. */
	CHECK_RC(txg_member_add(pl, sizeof(pl), &n, &act[5].pk, FWC_ROLE_AUDITOR, NULL), FWC_OK);
	CHECK_RC(submit(&act[0], FWC_TX_MEMBER_ADD, pl, n, NULL, NULL, id), FWC_OK);
	CHECK(wait_committed(id) == 0);
	usleep(50000); /* the commit hook runs right after the commit */
	q0 = node_db_query_count(db);
	checkin(q);
	CHECK(bundle_ok(rel, rel_len, NULL, 0));
	CHECK(node_db_query_count(db) - q0 > 0 && node_db_query_count(db) - q0 <= 30);
	node_updates_stats(upd, &s0);
	CHECK(s0.refreshes == s1.refreshes + 1 && s0.misses == s1.misses);

	/* A new release is offered at once. */
	CHECK_RC(txg_release(pl, sizeof(pl), &n, "thermo", "stable", 4, 1700000000, NULL, rels, 1,
	                     rid, NULL, NULL),
	         FWC_OK);
	CHECK_RC(submit(&act[1], FWC_TX_RELEASE, pl, n, rel2, &rel2_len, id), FWC_OK);
	CHECK(wait_committed(id) == 0);
	usleep(50000);
	checkin("product=thermo&channel=stable&hw=rev-c&counter=3");
	CHECK(bundle_ok(rel2, rel2_len, NULL, 0));
	checkin(q);
	CHECK(bundle_ok(rel2, rel2_len, NULL, 0));
	node_updates_stats(upd, &s1);
	CHECK(s1.misses >= s0.misses + 1);
}

/* With a registered device the rules are decided in memory: a repeated check-in borrows no
 * reader connection (every SQLite access of the check-in takes one); an unknown device is
 * refused with 404 unknown_device and another hardware id with 409 hwid_mismatch. */
static void test_device(void)
{
	static uint8_t pl[FWC_TX_PAYLOAD_MAX];
	struct txg_actor d;
	struct node_updates_stats s0, s1;
	char q[300], text[FWC_PUBKEY_TEXT_MAX], other[FWC_PUBKEY_TEXT_MAX];
	uint8_t id[32];
	size_t n = 0;

	CHECK_RC(txg_actor_init(&d, 5, 9), FWC_OK);
	CHECK_RC(txg_member_add(pl, sizeof(pl), &n, &act[0].pk, FWC_ROLE_OPERATOR, NULL), FWC_OK);
	CHECK_RC(submit(&act[0], FWC_TX_MEMBER_ADD, pl, n, NULL, NULL, id), FWC_OK);
	CHECK_RC(txg_device(pl, sizeof(pl), &n, &d.pk, "thermo", "rev-b", NULL, 0, 0, 0), FWC_OK);
	CHECK_RC(submit(&act[0], FWC_TX_DEVICE_REGISTER, pl, n, NULL, NULL, id), FWC_OK);
	CHECK(wait_committed(id) == 0);
	usleep(50000); /* the commit hook runs right after the commit */
	fwc_pubkey_to_text(text, sizeof(text), &d.pk);
	fwc_pubkey_to_text(other, sizeof(other), &act[3].pk);

	snprintf(q, sizeof(q), "product=thermo&channel=stable&hw=rev-b&counter=0&device=%s", text);
	checkin(q);
	CHECK(resp.status == 200 && strcmp(resp.content_type, "application/cbor") == 0);
	/* Measured again when a block that grew the tree landed in the window (at most 20). */
	for (int attempt = 0; attempt < 20; attempt++) {
		node_updates_stats(upd, &s0);
		checkin(q);
		CHECK(resp.status == 200 && strcmp(resp.content_type, "application/cbor") == 0);
		checkin(q);
		node_updates_stats(upd, &s1);
		if (s1.refreshes != s0.refreshes && attempt < 19)
			continue;
		CHECK(s1.readers == s0.readers);
		CHECK(s1.dev_fills == s0.dev_fills && s1.misses == s0.misses);
		break;
	}
	snprintf(q, sizeof(q), "product=thermo&channel=stable&hw=rev-b&counter=0&device=%s", other);
	checkin(q);
	CHECK(resp.status == 404 && strstr(resp.body, "\"unknown_device\"") != NULL);
	snprintf(q, sizeof(q), "product=thermo&channel=stable&hw=rev-c&counter=0&device=%s", text);
	checkin(q);
	CHECK(resp.status == 409 && strstr(resp.body, "\"hwid_mismatch\"") != NULL);
}

/* The Fwchain-Hold header of the answer, or "". */
static const char *hold(void)
{
	for (size_t i = 0; i < resp.nheaders; i++)
		if (strcmp(resp.headers[i].name, "Fwchain-Hold") == 0)
			return resp.headers[i].value;
	return "";
}

/* Submits (operator act[0]) and waits for the block; 0 when it applied. */
static int apply(uint32_t type, const uint8_t *pl, size_t n)
{
	uint8_t id[32];

	if (submit(&act[0], type, pl, n, NULL, NULL, id) != FWC_OK || wait_committed(id) != 0)
		return -1;
	usleep(50000); /* the commit hook runs right after the commit */
	return 0;
}

/* The check-in of device pk on channel ch at hardware rev-b, counter 0. */
static void checkin_dev(const struct fwc_pubkey *pk, const char *ch)
{
	char q[300], text[FWC_PUBKEY_TEXT_MAX];

	fwc_pubkey_to_text(text, sizeof(text), pk);
	snprintf(q, sizeof(q), "product=thermo&channel=%s&hw=rev-b&counter=0&device=%s", ch, text);
	checkin(q);
}

/* The device cache grows as devices check in and keeps them: GROW_DEVICES devices (every
 * other one registered with hardware rev-c, so a record mixed up with another device's gives
 * a wrong answer) take it from NODE_UPDATES_DEVICE_SLOTS (4096) slots to 32768 or 65536: it
 * doubles when more than half its slots are used (so 9000 records need more than 16384), and
 * when a quarter are and a set overflows (so never beyond 8 x 9000 = 72000 slots). A first
 * round reads every device once; a second is served from the cache, but for the few records a
 * full 4-way set evicted (about 1 % expected; at most 5 % accepted). */
#define GROW_DEVICES 9000
static void test_device_cache_growth(void)
{
	static uint8_t pl[FWC_TX_PAYLOAD_MAX];
	static struct fwc_pubkey pk[GROW_DEVICES];
	struct node_updates_stats s0, s1, s2;
	struct txg_actor d;
	uint8_t id[32];
	size_t n = 0, wrong = 0;

	for (uint32_t i = 0; i < GROW_DEVICES; i++) {
		CHECK_RC(txg_actor_init(&d, 7, i), FWC_OK);
		pk[i] = d.pk;
		CHECK_RC(txg_device(pl, sizeof(pl), &n, &d.pk, "thermo", i % 2 ? "rev-c" : "rev-b",
		                    NULL, 0, 0, 0),
		         FWC_OK);
		CHECK_RC(submit(&act[0], FWC_TX_DEVICE_REGISTER, pl, n, NULL, NULL, id), FWC_OK);
		if (i % 2000 == 1999) /* the mempool holds 10000 */
			CHECK(wait_committed(id) == 0);
	}
	CHECK(wait_committed(id) == 0);
	usleep(50000);
	node_updates_stats(upd, &s0);
	CHECK(s0.dev_slots == NODE_UPDATES_DEVICE_SLOTS);
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < GROW_DEVICES; i++) {
			checkin_dev(&pk[i], "none");
			if (i % 2 == 0)
				wrong += resp.status != 200 ||
				         strncmp(resp.content_type, "text/plain", 10) != 0;
			else
				wrong += resp.status != 409 ||
				         strstr(resp.body, "hardware id 'rev-c'") == NULL;
		}
		node_updates_stats(upd, round ? &s2 : &s1);
	}
	CHECK(wrong == 0);
	CHECK(s1.dev_fills - s0.dev_fills == GROW_DEVICES);
	CHECK((s1.dev_slots == 8 * NODE_UPDATES_DEVICE_SLOTS && s1.dev_grows - s0.dev_grows == 3) ||
	      (s1.dev_slots == 16 * NODE_UPDATES_DEVICE_SLOTS && s1.dev_grows - s0.dev_grows == 4));
	/* test_device registered one more */
	CHECK(s1.dev_records >= GROW_DEVICES * 95 / 100 && s1.dev_records <= GROW_DEVICES + 1);
	CHECK(s2.dev_fills - s1.dev_fills <= GROW_DEVICES / 20);
	CHECK(s2.dev_slots == s1.dev_slots && s2.dev_flushes == s0.dev_flushes);
	fprintf(stderr, "growth: %zu slots, %zu records, second round %llu fills of %d\n",
	        s2.dev_slots, s2.dev_records, (unsigned long long)(s2.dev_fills - s1.dev_fills),
	        GROW_DEVICES);
}

/* A block that changes device X (its groups) and one that issues a licence to Y drop just
 * their records: both get the new answer at once, while Z, untouched, is answered from the
 * cache (no fill, no reader). Revoking Y's licence drops Y again (its device read from the
 * ledger); a product-wide licence drops every record. */
static void test_device_invalidation(void)
{
	static uint8_t pl[FWC_TX_PAYLOAD_MAX];
	const struct txg_actor *rels[] = {&act[4]};
	struct fwc_manifest_rollout ro;
	struct fwc_pl_licence_issue li;
	struct fwc_pl_licence_revoke lr;
	struct node_updates_stats s0, s1;
	struct txg_actor x, y, z;
	const char *pilot[] = {"pilot"};
	uint8_t rid[32];
	size_t n = 0;

	CHECK_RC(txg_actor_init(&x, 8, 0), FWC_OK);
	CHECK_RC(txg_actor_init(&y, 8, 1), FWC_OK);
	CHECK_RC(txg_actor_init(&z, 8, 2), FWC_OK);
	/* beta: a release for the group pilot; pro: one for holders of a "pro" licence */
	memset(&ro, 0, sizeof(ro));
	ro.n_groups = 1;
	ro.groups[0] = txg_str("pilot");
	CHECK_RC(txg_release_ex(pl, sizeof(pl), &n, "thermo", "beta", 10, 1700000000, NULL, &ro,
	                        NULL, rels, 1, rid, NULL, NULL),
	         FWC_OK);
	CHECK_RC(submit(&act[1], FWC_TX_RELEASE, pl, n, NULL, NULL, rid), FWC_OK);
	CHECK_RC(txg_release_ex(pl, sizeof(pl), &n, "thermo", "pro", 10, 1700000000, NULL, NULL,
	                        "pro", rels, 1, rid, NULL, NULL),
	         FWC_OK);
	CHECK_RC(submit(&act[1], FWC_TX_RELEASE, pl, n, NULL, NULL, rid), FWC_OK);
	CHECK(wait_committed(rid) == 0);
	CHECK_RC(txg_device(pl, sizeof(pl), &n, &x.pk, "thermo", "rev-b", NULL, 0, 0, 0), FWC_OK);
	CHECK(apply(FWC_TX_DEVICE_REGISTER, pl, n) == 0);
	CHECK_RC(txg_device(pl, sizeof(pl), &n, &y.pk, "thermo", "rev-b", NULL, 0, 0, 0), FWC_OK);
	CHECK(apply(FWC_TX_DEVICE_REGISTER, pl, n) == 0);
	CHECK_RC(txg_device(pl, sizeof(pl), &n, &z.pk, "thermo", "rev-b", NULL, 0, 0, 0), FWC_OK);
	CHECK(apply(FWC_TX_DEVICE_REGISTER, pl, n) == 0);

	checkin_dev(&x.pk, "beta");
	CHECK(resp.status == 200 && strncmp(hold(), "not_in_group;", 13) == 0);
	checkin_dev(&y.pk, "pro");
	CHECK(resp.status == 200 && strncmp(hold(), "licence_required;", 17) == 0);
	checkin_dev(&z.pk, "beta");
	CHECK(resp.status == 200 && strncmp(hold(), "not_in_group;", 13) == 0);
	checkin_dev(&z.pk, "pro");
	CHECK(resp.status == 200 && strncmp(hold(), "licence_required;", 17) == 0);

	/* X joins pilot; Y gets a licence. */
	node_updates_stats(upd, &s0);
	CHECK_RC(txg_device(pl, sizeof(pl), &n, &x.pk, "thermo", "rev-b", pilot, 1, 1, 0), FWC_OK);
	CHECK(apply(FWC_TX_DEVICE_REGISTER, pl, n) == 0);
	memset(&li, 0, sizeof(li));
	li.id = txg_str("lic-y");
	li.product = txg_str("thermo");
	li.has_device = 1;
	li.device = y.pk;
	li.feature = txg_str("pro");
	li.not_before = 1;
	CHECK_RC(fwc_pl_licence_issue_encode(pl, sizeof(pl), &n, &li), FWC_OK);
	CHECK(apply(FWC_TX_LICENCE_ISSUE, pl, n) == 0);
	node_updates_stats(upd, &s1);
	CHECK(s1.dev_drops == s0.dev_drops + 2 && s1.dev_flushes == s0.dev_flushes);
	checkin_dev(&z.pk, "beta");
	CHECK(resp.status == 200 && strncmp(hold(), "not_in_group;", 13) == 0);
	checkin_dev(&z.pk, "pro");
	CHECK(resp.status == 200 && strncmp(hold(), "licence_required;", 17) == 0);
	node_updates_stats(upd, &s0);
	CHECK(s0.dev_fills == s1.dev_fills);
	checkin_dev(&x.pk, "beta");
	CHECK(resp.status == 200 && strcmp(resp.content_type, "application/cbor") == 0 &&
	      hold()[0] == '\0');
	/* Y first asks naming another product: refused, and the record read then (the licences
	 * of the product asked for) leaves Y's licences to the ledger (one lookup). */
	{
		char q[300], text[FWC_PUBKEY_TEXT_MAX];

		fwc_pubkey_to_text(text, sizeof(text), &y.pk);
		snprintf(q, sizeof(q), "product=meter&channel=pro&hw=rev-b&counter=0&device=%s",
		         text);
		checkin(q);
		CHECK(resp.status == 409 && strstr(resp.body, "\"product_mismatch\"") != NULL);
	}
	checkin_dev(&y.pk, "pro");
	CHECK(resp.status == 200 && strcmp(resp.content_type, "application/cbor") == 0 &&
	      hold()[0] == '\0');
	node_updates_stats(upd, &s1);
	CHECK(s1.dev_fills == s0.dev_fills + 2 && s1.lookups == s0.lookups + 1);

	/* Y's licence revoked: the revoke names only the licence; Y is found and dropped. */
	memset(&lr, 0, sizeof(lr));
	lr.id = txg_str("lic-y");
	lr.product = txg_str("thermo");
	CHECK_RC(fwc_pl_licence_revoke_encode(pl, sizeof(pl), &n, &lr), FWC_OK);
	CHECK(apply(FWC_TX_LICENCE_REVOKE, pl, n) == 0);
	node_updates_stats(upd, &s0);
	CHECK(s0.dev_drops == s1.dev_drops + 1 && s0.dev_flushes == s1.dev_flushes);
	checkin_dev(&y.pk, "pro");
	CHECK(resp.status == 200 && strncmp(hold(), "licence_required;", 17) == 0);
	checkin_dev(&z.pk, "beta");
	CHECK(resp.status == 200 && strncmp(hold(), "not_in_group;", 13) == 0);
	checkin_dev(&x.pk, "beta");
	CHECK(strcmp(resp.content_type, "application/cbor") == 0);
	node_updates_stats(upd, &s1);
	CHECK(s1.dev_fills == s0.dev_fills + 1); /* Y only */

	/* A product-wide licence may change any device of the product: all records go. */
	li.id = txg_str("lic-all");
	li.has_device = 0;
	CHECK_RC(fwc_pl_licence_issue_encode(pl, sizeof(pl), &n, &li), FWC_OK);
	CHECK(apply(FWC_TX_LICENCE_ISSUE, pl, n) == 0);
	node_updates_stats(upd, &s0);
	CHECK(s0.dev_flushes == s1.dev_flushes + 1);
	checkin_dev(&z.pk, "pro");
	CHECK(resp.status == 200 && strcmp(resp.content_type, "application/cbor") == 0);
	node_updates_stats(upd, &s1);
	CHECK(s1.dev_fills == s0.dev_fills + 1);
}

/* A second check-in cache on the same ledger, warmed at start: the registered devices (none
 * holds a licence yet) are installed without a check-in — all but the few whose 4-way set was
 * full (the warming never evicts; sized for them, a quarter full at most, under 1 % of the
 * sets overflow) — and then each check-in is answered rightly (every other one is a rev-c
 * device: 409), from the cache but for those few. */
static void test_device_warm(void)
{
	struct node_updates *u = NULL, *keep = upd;
	struct node_updates_stats s;
	struct txg_actor d;
	size_t wrong = 0;

	CHECK_RC(node_updates_new(&u, db), FWC_OK);
	CHECK_RC(node_updates_warm(u), FWC_OK);
	CHECK_RC(node_updates_warm(u), FWC_ERR_ARG);
	node_chain_set_commit_hook(chain, node_updates_on_commit, u);
	for (int i = 0; i < 1000; i++) { /* at most 10 s */
		node_updates_stats(u, &s);
		if (s.warm_done)
			break;
		usleep(10000);
	}
	CHECK(s.warm_done);
	/* the growth test's devices and test_device's one */
	CHECK(s.dev_warmed >= (GROW_DEVICES + 1) * 99 / 100 && s.dev_warmed <= GROW_DEVICES + 1);
	CHECK(s.dev_records == s.dev_warmed && s.dev_fills == 0);
	CHECK(s.dev_slots >= 4 * (GROW_DEVICES + 1));
	upd = u;
	for (uint32_t i = 0; i < GROW_DEVICES; i++) {
		CHECK_RC(txg_actor_init(&d, 7, i), FWC_OK);
		checkin_dev(&d.pk, "none");
		if (i % 2 == 0)
			wrong += resp.status != 200 || strncmp(resp.content_type, "text/plain", 10) != 0;
		else
			wrong += resp.status != 409 || strstr(resp.body, "hardware id 'rev-c'") == NULL;
	}
	CHECK(wrong == 0);
	{
		uint64_t warmed = s.dev_warmed;

		node_updates_stats(u, &s);
		/* the devices not warmed, and those a fill of theirs evicted from a full set: a
		 * few; unwarmed, all 9000 */
		CHECK(s.dev_fills <= GROW_DEVICES / 100 && s.dev_warmed == warmed);
		fprintf(stderr, "warm: %llu warmed, %llu filled at check-in\n",
		        (unsigned long long)warmed, (unsigned long long)s.dev_fills);
	}
	upd = keep;
	node_chain_set_commit_hook(chain, node_updates_on_commit, upd);
	node_updates_free(u);
}

static void test_not_ready(void)
{
	struct node_updates *u = NULL;
	struct node_updates *keep = upd;

	CHECK_RC(node_updates_new(&u, db), FWC_OK);
	upd = u;
	checkin("product=thermo&channel=stable&hw=rev-b&counter=0");
	CHECK(resp.status == 503);
	checkin("product=thermo&channel=stable&hw=rev-b");
	CHECK(resp.status == 400 && strstr(resp.body, "\"parameter\":\"counter\"") != NULL);
	upd = NULL;
	checkin("product=thermo&channel=stable&hw=rev-b&counter=1");
	CHECK(resp.status == 503);
	upd = keep;
	node_updates_free(u);
}

int main(void)
{
	struct node_chain_config cfg;
	struct node_consensus cs;
	static struct node_consensus_dev dev;
	struct node_genesis g;
	struct fwc_errinfo ei = {0};
	uint8_t seed[32] = {4, 4, 4};
	char p[256], cmd[300];

	if (mkdtemp(dir) == NULL)
		return 1;
	for (uint32_t i = 0; i < 6; i++)
		txg_actor_init(&act[i], 5, i);
	fwc_key_from_secret(&vsk, FWC_ALG_ED25519, seed);
	memset(&g, 0, sizeof(g));
	snprintf(g.chain_id, sizeof(g.chain_id), "%s", chain_id);
	g.time = (int64_t)time(NULL);
	g.n_validators = 1;
	snprintf(g.validators[0].name, sizeof(g.validators[0].name), VNAME);
	fwc_key_public(&g.validators[0].key, &vsk);
	g.quorum = 1;
	g.n_orgs = 1;
	snprintf(g.orgs[0].id, sizeof(g.orgs[0].id), "root");
	snprintf(g.orgs[0].name, sizeof(g.orgs[0].name), "Root");
	snprintf(g.orgs[0].admin_name, sizeof(g.orgs[0].admin_name), "admin");
	g.orgs[0].admin = act[0].pk;
	fwc_note_vkey_init(&vkey, VNAME, strlen(VNAME), FWC_NOTE_SIG_COSIG_V1,
	                   &g.validators[0].key);
	snprintf(p, sizeof(p), "%s/ledger.db", dir);
	node_chain_config_default(&cfg);
	cfg.block_interval_ms = 20;
	cfg.checkpoint_interval_s = 1;
	node_consensus_dev_init(&cs, &dev, &vsk, VNAME);
	if (node_db_open(&db, p, 1, &ei) != FWC_OK ||
	    node_chain_start(&chain, &cfg, db, &cs, &g, &ei) != FWC_OK ||
	    node_updates_new(&upd, db) != FWC_OK) {
		fprintf(stderr, "setup: %s\n", ei.msg);
		return 1;
	}
	node_chain_set_commit_hook(chain, node_updates_on_commit, upd);
	RUN(test_checkin);
	RUN(test_device);
	RUN(test_device_cache_growth);
	RUN(test_device_warm);
	RUN(test_device_invalidation);
	RUN(test_not_ready);
	node_http_response_cleanup(&resp);
	node_chain_stop(chain);
	node_updates_free(upd);
	node_db_close(db);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return test_done();
}
