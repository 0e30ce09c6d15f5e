/* Tests of lib/payload.c: the worked examples of docs/formats/payloads.md (hex computed by the
 * independent reference tests/vectors/payloads.py, with BIP-340 keys of the BIP's own test
 * vectors), round trips, and one refusal per decoder rule. */
#include "fwchain/payload.h"

#include "fwchain/hex.h"
#include "fwchain/sha256.h"
#include "fwchain/tx.h"
#include "test.h"

/* From tests/vectors/payloads.py (see docs/formats/payloads.md). */
#define KEY_A_HEX "01f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9"
#define KEY_B_HEX "01dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659"
#define KEY_V_HEX "02d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"

static const char ex_org_register[] =
    "a3016461636d65026941434d4520436f727003582101f9308a019258c31049344f85f89d5229b531c84583"
    "6f99b08601f113bce036f9";
static const char ex_member_add[] =
    "a301582101dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659020303636f"
    "7073";
static const char ex_member_remove[] =
    "a101582101dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659";
static const char ex_device_register[] =
    "a701582101dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba6590266746865"
    "726d6f03657265762d6204826265756570696c6f74056765752d7765737406a16473697465646c796f6e"
    "0705";
static const char ex_release_revoke[] =
    "a2015820000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0263626164";
static const char ex_rollout[] =
    "a2015820000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0201";
static const char ex_postpone[] =
    "a3025820000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f031a655542800565"
    "70696c6f74";
static const char ex_config_update[] = "a40166746865726d6f026265750468696e74657276616c05413c";
static const char ex_licence_issue[] =
    "a601656c69632d310266746865726d6f03582101dff1d77f2a671c5f36183726db2341be58feae1da2dece"
    "d843240f7b502ba659046370726f051a6553f1000600";
static const char ex_licence_revoke[] = "a201656c69632d310266746865726d6f";
static const char ex_key_revoke[] =
    "a201582101dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba65902646c6f7374";
static const char ex_validator_set[] =
    "a301020281a201582102d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a02"
    "6276310301";
static const char ex_keyset[] =
    "a3000101010282582101dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba65958"
    "2101f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9";
static const char ex_product_register[] =
    "a30166746865726d6f026a546865726d6f7374617403a3000101010282582101dff1d77f2a671c5f361837"
    "26db2341be58feae1da2deced843240f7b502ba659582101f9308a019258c31049344f85f89d5229b531c8"
    "45836f99b08601f113bce036f9";
static const char ex_event_body[] =
    "a601582101dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba6590207031a6553"
    "f1000404055820000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0605";
static const char ex_event_digest[] =
    "980dc90cc6cc8b069ecbdce2bd389906c66266040df487f290b725ccb2f9819d";
static const char ex_event[] =
    "a201a601582101dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba6590207031a"
    "6553f1000404055820000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0605"
    "02584051398a308d18ff729de7b4aca72e0fa0e4c65af0c578d5115807405adcbd7f4e93490122c6d8d535"
    "5261b374557208ba737734c6a321491746d59157dceee1de";
/* The self-reported form (payload field 2): the body above in device B's own DEVICE_EVENT
 * transaction, signed once by the envelope (tests/vectors/payloads.py). */
static const char ex_event_self_payload[] =
    "a102a601582101dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba6590207031a65"
    "53f1000404055820000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0605";
static const char ex_event_self_txbody[] =
    "a70001010b026b6677636861696e2d64657603582101dff1d77f2a671c5f36183726db2341be58feae1da2de"
    "ced843240f7b502ba6590403051a6553f100065856a102a601582101dff1d77f2a671c5f36183726db2341be"
    "58feae1da2deced843240f7b502ba6590207031a6553f1000404055820000102030405060708090a0b0c0d0e"
    "0f101112131415161718191a1b1c1d1e1f0605";
static const char ex_event_self_txdigest[] =
    "5c60621ea3ed59c5a95433a43af992462bdfb2ac7c23b7ff68d32a31e1fba0da";
static const char ex_event_self_tx[] =
    "a2015897a70001010b026b6677636861696e2d64657603582101dff1d77f2a671c5f36183726db2341be58fe"
    "ae1da2deced843240f7b502ba6590403051a6553f100065856a102a601582101dff1d77f2a671c5f36183726"
    "db2341be58feae1da2deced843240f7b502ba6590207031a6553f1000404055820000102030405060708090a"
    "0b0c0d0e0f101112131415161718191a1b1c1d1e1f06050258401b0245a42cff80bff7b92824c87cc6bb5973"
    "81260b5613c1c9d0b89acb927c34d75b0714b2e0de8a72bad72625319be205573ccf5a267d022fede3c0828d"
    "d205";
static const char ex_event_self_txid[] =
    "bfb50bffa1fc351569baa3c3019111d6a914b3e7b95ed41958824f9995016da1";
static const char ex_statement_body[] =
    "a40166746865726d6f0202030104a3000101010281582101dff1d77f2a671c5f36183726db2341be58feae"
    "1da2deced843240f7b502ba659";
static const char ex_statement_digest[] =
    "354b92d60e2e27797df378af2e60bd60f652a427048046c2dbb835afa2764470";
static const char ex_statement[] =
    "a201a40166746865726d6f0202030104a3000101010281582101dff1d77f2a671c5f36183726db2341be58"
    "feae1da2deced843240f7b502ba6590281a201582101f9308a019258c31049344f85f89d5229b531c84583"
    "6f99b08601f113bce036f90258405b25ec312cebea79b2fd2e2b43bd64aa76d9a8e9e05ce11ad85d1892ea"
    "f3a55b28cd2594d01e505540ad70431b9ed415c8602285c22afadfa02481c2f8fcd96a";

static uint8_t buf[4096], want[4096];
static size_t buflen, wantlen;

static void unhex(const char *hex)
{
	wantlen = test_unhex(want, sizeof(want), hex);
}

static struct fwc_pubkey key_of(const char *hex)
{
	uint8_t bin[FWC_PUBKEY_BIN_LEN];
	struct fwc_pubkey pk;

	memset(&pk, 0, sizeof(pk));
	test_unhex(bin, sizeof(bin), hex);
	CHECK_RC(fwc_pubkey_from_bin(&pk, bin, sizeof(bin), NULL), FWC_OK);
	return pk;
}

static struct fwc_cbor_str S(const char *s) {
	struct fwc_cbor_str v = {s, strlen(s)};
	return v;
}

static int
str_is(struct fwc_cbor_str v, const char *s)
{
	return v.len == strlen(s) && memcmp(v.p, s, v.len) == 0;
}

static void release_id(uint8_t id[32])
{
	for (int i = 0; i < 32; i++)
		id[i] = (uint8_t)i;
}

/* Encoded bytes must equal the reference example exactly. */
#define CHECK_ENCODES(fn, p, hex)                                                                  \
	do {                                                                                       \
		unhex(hex);                                                                        \
		CHECK_RC(fn(buf, sizeof(buf), &buflen, p), FWC_OK);                                \
		CHECK(buflen == wantlen);                                                          \
		CHECK_MEM(buf, want, wantlen);                                                     \
	} while (0)

static void test_org_register(void)
{
	struct fwc_pl_org_register p = {S("acme"), S("ACME Corp"), key_of(KEY_A_HEX)}, d;
	struct fwc_pubkey a = key_of(KEY_A_HEX);

	CHECK_ENCODES(fwc_pl_org_register_encode, &p, ex_org_register);
	CHECK_RC(fwc_pl_org_register_decode(&d, want, wantlen, NULL), FWC_OK);
	CHECK(str_is(d.id, "acme") && str_is(d.name, "ACME Corp"));
	CHECK(fwc_pubkey_equal(&d.admin, &a));
	/* The decoded strings point into the input (zero copy). */
	CHECK((const uint8_t *)d.id.p > want && (const uint8_t *)d.id.p < want + wantlen);
}

static void test_member(void)
{
	struct fwc_pl_member_add p = {key_of(KEY_B_HEX), FWC_ROLE_OPERATOR, 1, S("ops")}, d;
	struct fwc_pl_member_remove r = {key_of(KEY_B_HEX), 0}, dr;

	CHECK_ENCODES(fwc_pl_member_add_encode, &p, ex_member_add);
	CHECK_RC(fwc_pl_member_add_decode(&d, want, wantlen, NULL), FWC_OK);
	CHECK(d.role == FWC_ROLE_OPERATOR && d.has_label && str_is(d.label, "ops"));
	CHECK_ENCODES(fwc_pl_member_remove_encode, &r, ex_member_remove);
	CHECK_RC(fwc_pl_member_remove_decode(&dr, want, wantlen, NULL), FWC_OK);
	CHECK(dr.role == 0);
	/* Role 6 does not exist; role 0 cannot be added. */
	p.role = 6;
	CHECK_RC(fwc_pl_member_add_encode(buf, sizeof(buf), &buflen, &p), FWC_ERR_RANGE);
	p.role = 0;
	CHECK_RC(fwc_pl_member_add_encode(buf, sizeof(buf), &buflen, &p), FWC_ERR_RANGE);
	/* Decoder: same example with role 6 (byte 0x03 after key 02 becomes 0x06). */
	unhex(ex_member_add);
	want[38] = 0x06;
	CHECK_RC(fwc_pl_member_add_decode(&d, want, wantlen, NULL), FWC_ERR_RANGE);
}

static void test_device_register(void)
{
	struct fwc_pl_device_register p, d;

	memset(&p, 0, sizeof(p));
	p.device = key_of(KEY_B_HEX);
	p.product = S("thermo");
	p.hwid = S("rev-b");
	p.groups.n = 2;
	p.groups.v[0] = S("eu");
	p.groups.v[1] = S("pilot");
	p.region = S("eu-west");
	p.attrs.n = 1;
	p.attrs.v[0].key = S("site");
	p.attrs.v[0].value = S("lyon");
	p.counter = 5;
	CHECK_ENCODES(fwc_pl_device_register_encode, &p, ex_device_register);
	CHECK_RC(fwc_pl_device_register_decode(&d, want, wantlen, NULL), FWC_OK);
	CHECK(str_is(d.product, "thermo") && str_is(d.hwid, "rev-b") &&
	      str_is(d.region, "eu-west"));
	CHECK(d.groups.n == 2 && str_is(d.groups.v[1], "pilot"));
	CHECK(d.attrs.n == 1 && str_is(d.attrs.v[0].value, "lyon"));
	CHECK(d.counter == 5 && !d.update && !d.retire);

	/* Groups must be sorted: swap them. */
	p.groups.v[0] = S("pilot");
	p.groups.v[1] = S("eu");
	CHECK_RC(fwc_pl_device_register_encode(buf, sizeof(buf), &buflen, &p), FWC_ERR_UNSORTED);
	p.groups.v[1] = S("pilot");
	CHECK_RC(fwc_pl_device_register_encode(buf, sizeof(buf), &buflen, &p), FWC_ERR_DUPLICATE);
	p.groups.v[0] = S("eu");
	/* A hardware id with a space is refused; an upper-case group is not an id. */
	p.hwid = S("rev b");
	CHECK_RC(fwc_pl_device_register_encode(buf, sizeof(buf), &buflen, &p), FWC_ERR_MALFORMED);
	p.hwid = S("rev-b");
	p.groups.v[0] = S("EU");
	CHECK_RC(fwc_pl_device_register_encode(buf, sizeof(buf), &buflen, &p), FWC_ERR_MALFORMED);
	p.groups.v[0] = S("eu");
	/* Update with a counter, retire without update: refused both ways. */
	p.update = 1;
	CHECK_RC(fwc_pl_device_register_encode(buf, sizeof(buf), &buflen, &p), FWC_ERR_MALFORMED);
	p.update = 0;
	p.retire = 1;
	CHECK_RC(fwc_pl_device_register_encode(buf, sizeof(buf), &buflen, &p), FWC_ERR_MALFORMED);
	p.retire = 0;

	/* Counter 0 written out is not canonical: last two bytes 07 05 -> 07 00. */
	unhex(ex_device_register);
	want[wantlen - 1] = 0x00;
	CHECK_RC(fwc_pl_device_register_decode(&d, want, wantlen, NULL), FWC_ERR_NONCANONICAL);
	/* The cap: a short buffer fails with the size needed. */
	unhex(ex_device_register);
	CHECK_RC(fwc_pl_device_register_encode(buf, 10, &buflen, &p), FWC_ERR_BUFSIZE);
	CHECK(buflen == wantlen);
}

static void test_release_ops(void)
{
	struct fwc_pl_release_revoke rr = {{0}, S("bad")}, drr;
	struct fwc_pl_rollout ro = {{0}, FWC_ROLLOUT_PAUSE, {NULL, 0}}, dro;
	struct fwc_pl_postpone pp, dpp;

	release_id(rr.release_id);
	release_id(ro.release_id);
	CHECK_ENCODES(fwc_pl_release_revoke_encode, &rr, ex_release_revoke);
	CHECK_RC(fwc_pl_release_revoke_decode(&drr, want, wantlen, NULL), FWC_OK);
	CHECK_MEM(drr.release_id, rr.release_id, 32);
	CHECK_ENCODES(fwc_pl_rollout_encode, &ro, ex_rollout);
	CHECK_RC(fwc_pl_rollout_decode(&dro, want, wantlen, NULL), FWC_OK);
	CHECK(dro.action == FWC_ROLLOUT_PAUSE && dro.reason.len == 0);
	/* Action 4 is not an action. */
	want[wantlen - 1] = 0x04;
	CHECK_RC(fwc_pl_rollout_decode(&dro, want, wantlen, NULL), FWC_ERR_RANGE);
	/* A 31-byte release id. */
	ro.action = 9;
	CHECK_RC(fwc_pl_rollout_encode(buf, sizeof(buf), &buflen, &ro), FWC_ERR_RANGE);

	memset(&pp, 0, sizeof(pp));
	pp.has_group = 1;
	pp.group = S("pilot");
	release_id(pp.release_id);
	pp.until = 1700086400;
	CHECK_ENCODES(fwc_pl_postpone_encode, &pp, ex_postpone);
	CHECK_RC(fwc_pl_postpone_decode(&dpp, want, wantlen, NULL), FWC_OK);
	CHECK(dpp.has_group && !dpp.has_device && dpp.until == 1700086400);
	pp.has_device = 1;
	pp.device = key_of(KEY_B_HEX);
	CHECK_RC(fwc_pl_postpone_encode(buf, sizeof(buf), &buflen, &pp), FWC_ERR_MALFORMED);
}

static void test_config_licence(void)
{
	static const uint8_t sixty = 0x3c;
	struct fwc_pl_config_update c, dc;
	struct fwc_pl_licence_issue li, dli;
	struct fwc_pl_licence_revoke lr = {S("lic-1"), S("thermo"), {NULL, 0}}, dlr;

	memset(&c, 0, sizeof(c));
	c.product = S("thermo");
	c.has_group = 1;
	c.group = S("eu");
	c.name = S("interval");
	c.has_value = 1;
	c.value.p = &sixty;
	c.value.len = 1;
	CHECK_ENCODES(fwc_pl_config_update_encode, &c, ex_config_update);
	CHECK_RC(fwc_pl_config_update_decode(&dc, want, wantlen, NULL), FWC_OK);
	CHECK(dc.has_group && !dc.has_device && dc.has_value && dc.value.len == 1 &&
	      dc.value.p[0] == 0x3c);
	c.has_device = 1;
	c.device = key_of(KEY_B_HEX);
	CHECK_RC(fwc_pl_config_update_encode(buf, sizeof(buf), &buflen, &c), FWC_ERR_MALFORMED);

	memset(&li, 0, sizeof(li));
	li.id = S("lic-1");
	li.product = S("thermo");
	li.has_device = 1;
	li.device = key_of(KEY_B_HEX);
	li.feature = S("pro");
	li.not_before = 1700000000;
	CHECK_ENCODES(fwc_pl_licence_issue_encode, &li, ex_licence_issue);
	CHECK_RC(fwc_pl_licence_issue_decode(&dli, want, wantlen, NULL), FWC_OK);
	CHECK(dli.has_device && dli.not_before == 1700000000 && dli.not_after == 0 &&
	      str_is(dli.feature, "pro"));
	CHECK_ENCODES(fwc_pl_licence_revoke_encode, &lr, ex_licence_revoke);
	CHECK_RC(fwc_pl_licence_revoke_decode(&dlr, want, wantlen, NULL), FWC_OK);
	CHECK(str_is(dlr.id, "lic-1") && dlr.reason.len == 0);
}

static void test_key_revoke_validators(void)
{
	struct fwc_pl_key_revoke k = {key_of(KEY_B_HEX), S("lost")}, dk;
	static struct fwc_pl_validator_set v, dv;

	CHECK_ENCODES(fwc_pl_key_revoke_encode, &k, ex_key_revoke);
	CHECK_RC(fwc_pl_key_revoke_decode(&dk, want, wantlen, NULL), FWC_OK);
	CHECK(str_is(dk.reason, "lost"));

	memset(&v, 0, sizeof(v));
	v.version = 2;
	v.n = 1;
	v.v[0].key = key_of(KEY_V_HEX);
	v.v[0].name = S("v1");
	v.quorum = 1;
	CHECK_ENCODES(fwc_pl_validator_set_encode, &v, ex_validator_set);
	CHECK_RC(fwc_pl_validator_set_decode(&dv, want, wantlen, NULL), FWC_OK);
	CHECK(dv.version == 2 && dv.n == 1 && dv.quorum == 1 && str_is(dv.v[0].name, "v1"));
	/* A bip340 validator key is refused (encoder and decoder). */
	v.v[0].key = key_of(KEY_A_HEX);
	CHECK_RC(fwc_pl_validator_set_encode(buf, sizeof(buf), &buflen, &v), FWC_ERR_KEY);
	unhex(ex_validator_set);
	want[8] = 0x01; /* the algorithm byte of the validator key: ed25519 -> bip340 */
	CHECK(fwc_pl_validator_set_decode(&dv, want, wantlen, NULL) < 0);
}

static void test_product_and_statement(void)
{
	struct fwc_pl_product_register p, d;
	struct fwc_rotation rot, drot;
	struct fwc_keyset_sig sig;
	uint8_t ks[256], rel[256], digest[32], wantd[32], sigbytes[64], keyb[33];
	size_t kslen = test_unhex(ks, sizeof(ks), ex_keyset), rellen;

	memset(&p, 0, sizeof(p));
	p.id = S("thermo");
	p.name = S("Thermostat");
	p.root_set.p = ks;
	p.root_set.len = kslen;
	CHECK_ENCODES(fwc_pl_product_register_encode, &p, ex_product_register);
	CHECK_RC(fwc_pl_product_register_decode(&d, want, wantlen, NULL), FWC_OK);
	CHECK(d.root_set.len == kslen && memcmp(d.root_set.p, ks, kslen) == 0);
	/* Threshold 0 is not a key set (the byte after 01 in "a3 00 01 01 01"). */
	want[wantlen - kslen + 4] = 0x00;
	CHECK(fwc_pl_product_register_decode(&d, want, wantlen, NULL) < 0);

	/* The key-set statement from the reference, decoded and checked. */
	unhex(ex_statement);
	CHECK_RC(fwc_rotation_decode(&drot, want, wantlen, NULL), FWC_OK);
	CHECK(str_is(drot.product, "thermo") && drot.set == FWC_ROTATE_RELEASE &&
	      drot.version == 1 && drot.n_sigs == 1);
	CHECK_RC(fwc_rotation_digest(digest, &drot), FWC_OK);
	test_unhex(wantd, sizeof(wantd), ex_statement_digest);
	CHECK_MEM(digest, wantd, 32);
	/* The signature is the root key A's (BIP-340 over the digest). */
	{
		struct fwc_pubkey a = key_of(KEY_A_HEX);

		CHECK_RC(fwc_verify(&a, drot.sigs[0].sig, digest, 32), FWC_OK);
	}
	/* Re-encode from fields: same body and statement bytes. */
	memset(&rot, 0, sizeof(rot));
	rot.product = S("thermo");
	rot.set = FWC_ROTATE_RELEASE;
	rot.version = 1;
	rellen = drot.keyset.len;
	memcpy(rel, drot.keyset.p, rellen);
	rot.keyset.p = rel;
	rot.keyset.len = rellen;
	CHECK_ENCODES(fwc_rotation_body_encode, &rot, ex_statement_body);
	memcpy(sigbytes, drot.sigs[0].sig, 64);
	test_unhex(keyb, sizeof(keyb), KEY_A_HEX);
	sig.pubkey = keyb;
	sig.sig = sigbytes;
	unhex(ex_statement);
	CHECK_RC(fwc_rotation_encode(buf, sizeof(buf), &buflen, &rot, &sig, 1), FWC_OK);
	CHECK(buflen == wantlen);
	CHECK_MEM(buf, want, wantlen);
	CHECK_RC(fwc_rotation_digest(digest, &rot), FWC_OK);
	CHECK_MEM(digest, wantd, 32);
	/* The same key twice is refused by the encoder. */
	{
		struct fwc_keyset_sig two[2] = {sig, sig};

		CHECK_RC(fwc_rotation_encode(buf, sizeof(buf), &buflen, &rot, two, 2),
		         FWC_ERR_DUPLICATE);
	}
	/* Version 0 is refused. */
	rot.version = 0;
	CHECK_RC(fwc_rotation_body_encode(buf, sizeof(buf), &buflen, &rot), FWC_ERR_RANGE);
	/* Wrapped in its payload. */
	{
		struct fwc_pl_keyset_statement w = {{want, wantlen}}, dw;

		CHECK_RC(fwc_pl_keyset_statement_encode(buf, sizeof(buf), &buflen, &w), FWC_OK);
		CHECK(buflen == wantlen + 4 && buf[0] == 0xa1 && buf[1] == 0x01);
		CHECK_RC(fwc_pl_keyset_statement_decode(&dw, buf, buflen, NULL), FWC_OK);
		CHECK(dw.statement.len == wantlen);
	}
}

static void test_event(void)
{
	struct fwc_event ev, mine;
	struct fwc_seckey sk;
	uint8_t digest[32], wantd[32], body[256], secret[32];
	size_t blen = test_unhex(body, sizeof(body), ex_event_body);

	unhex(ex_event);
	CHECK_RC(fwc_event_decode(&ev, want, wantlen, NULL), FWC_OK);
	CHECK(ev.seq == 7 && ev.time == 1700000000 && ev.kind == FWC_EVENT_CONFIRMED &&
	      ev.has_release && ev.has_counter && ev.counter == 5 && ev.detail.len == 0);
	CHECK(ev.body.len == blen && memcmp(ev.body.p, body, blen) == 0);
	CHECK_RC(fwc_tagged_hash(digest, FWC_TAG_EVENT, ev.body.p, ev.body.len), FWC_OK);
	test_unhex(wantd, sizeof(wantd), ex_event_digest);
	CHECK_MEM(digest, wantd, 32);
	CHECK_RC(fwc_event_verify(&ev), FWC_OK);
	/* The two halves for an external signer give the same bytes: the body from the decoded
	 * fields, then the object from that body and the example's signature. */
	{
		uint8_t b2[256], obj[512];
		size_t b2len = 0, olen = 0;

		CHECK_RC(fwc_event_body_encode(b2, sizeof(b2), &b2len, &ev), FWC_OK);
		CHECK(b2len == blen && memcmp(b2, body, blen) == 0);
		CHECK_RC(fwc_event_encode(obj, sizeof(obj), &olen, b2, b2len, ev.sig), FWC_OK);
		CHECK(olen == wantlen && memcmp(obj, want, wantlen) == 0);
		CHECK_RC(fwc_event_encode(obj, 10, &olen, b2, b2len, ev.sig), FWC_ERR_BUFSIZE);
		CHECK_RC(fwc_event_body_encode(b2, 10, &b2len, &ev), FWC_ERR_BUFSIZE);
	}
	/* One flipped byte of the body (the sequence number 7 -> 8) breaks the signature. */
	want[4 + 35 + 1] = 0x08;
	CHECK_RC(fwc_event_decode(&ev, want, wantlen, NULL), FWC_OK);
	CHECK(ev.seq == 8);
	CHECK_RC(fwc_event_verify(&ev), FWC_ERR_BADSIG);

	/* Sign our own with key B (secret of BIP-340 vector 1) and verify it. */
	test_unhex(secret, sizeof(secret),
	           "b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef");
	CHECK_RC(fwc_key_from_secret(&sk, FWC_ALG_BIP340, secret), FWC_OK);
	memset(&mine, 0, sizeof(mine));
	mine.device = key_of(KEY_B_HEX);
	mine.seq = 7;
	mine.time = 1700000000;
	mine.kind = FWC_EVENT_CONFIRMED;
	mine.has_release = 1;
	release_id(mine.release_id);
	mine.has_counter = 1;
	mine.counter = 5;
	CHECK_RC(fwc_event_sign(buf, sizeof(buf), &buflen, &mine, &sk), FWC_OK);
	/* Same body as the reference (signatures differ: random auxiliary data). */
	CHECK(buflen == wantlen);
	CHECK_MEM(buf + 2, body, blen);
	CHECK_RC(fwc_event_decode(&ev, buf, buflen, NULL), FWC_OK);
	CHECK_RC(fwc_event_verify(&ev), FWC_OK);
	/* Kind 8 is reserved, sequence 0 is not a sequence number. */
	mine.kind = 8;
	CHECK_RC(fwc_event_sign(buf, sizeof(buf), &buflen, &mine, &sk), FWC_ERR_RANGE);
	mine.kind = 64;
	CHECK_RC(fwc_event_sign(buf, sizeof(buf), &buflen, &mine, &sk), FWC_OK);
	mine.seq = 0;
	CHECK_RC(fwc_event_sign(buf, sizeof(buf), &buflen, &mine, &sk), FWC_ERR_RANGE);
	/* Another key cannot sign for the device. */
	mine.seq = 1;
	mine.device = key_of(KEY_A_HEX);
	CHECK_RC(fwc_event_sign(buf, sizeof(buf), &buflen, &mine, &sk), FWC_ERR_KEY);
	fwc_seckey_wipe(&sk);
}

/* The map-level rules every decoder shares, shown on ORG_REGISTER. */
/* The self-reported device event of docs/formats/payloads.md: payload {2: body}, and the
 * whole transaction of device B carrying it, checked byte for byte against the independent
 * reference; its one signature (the envelope's, made by the reference) verifies. */
static void test_event_self(void)
{
	struct fwc_pl_device_event w, dw;
	struct fwc_signed_tx stx;
	struct fwc_event ev;
	struct fwc_tx tx;
	struct fwc_errinfo ei;
	uint8_t body[256], txbody[512], digest[32], wantd[32], id[32], wantid[32];
	size_t blen = test_unhex(body, sizeof(body), ex_event_body), tblen = 0;

	/* Payload: a1 02 <body>. */
	unhex(ex_event_self_payload);
	memset(&w, 0, sizeof(w));
	w.body.p = body;
	w.body.len = blen;
	CHECK_RC(fwc_pl_device_event_encode(buf, sizeof(buf), &buflen, &w), FWC_OK);
	CHECK(buflen == wantlen && memcmp(buf, want, wantlen) == 0);
	CHECK(buflen == blen + 2 && buf[0] == 0xa1 && buf[1] == 0x02);
	CHECK_RC(fwc_pl_device_event_decode(&dw, want, wantlen, NULL), FWC_OK);
	CHECK(dw.event.len == 0 && dw.event.p == NULL && dw.body.len == blen &&
	      memcmp(dw.body.p, body, blen) == 0);
	CHECK_RC(fwc_event_body_decode(&ev, dw.body.p, dw.body.len, NULL), FWC_OK);
	CHECK(ev.seq == 7 && ev.kind == FWC_EVENT_CONFIRMED && ev.has_counter && ev.counter == 5);
	{
		struct fwc_pubkey b = key_of(KEY_B_HEX);

		CHECK(fwc_pubkey_equal(&ev.device, &b));
	}
	/* A body carries no signature of its own. */
	CHECK_RC(fwc_event_verify(&ev), FWC_ERR_BADSIG);
	/* With a known key: the same event whether or not the body's key is that one; a body
	 * key that is not a curve point is still refused when it is not the known key. */
	{
		struct fwc_pubkey a = key_of(KEY_A_HEX), b = key_of(KEY_B_HEX);
		struct fwc_event e2;
		uint8_t bad[256];

		CHECK_RC(fwc_event_body_decode_known(&e2, body, blen, &b, NULL), FWC_OK);
		CHECK(fwc_pubkey_equal(&e2.device, &b) && e2.seq == 7 && e2.counter == 5);
		CHECK_RC(fwc_event_body_decode_known(&e2, body, blen, &a, NULL), FWC_OK);
		CHECK(fwc_pubkey_equal(&e2.device, &b));
		memcpy(bad, body, blen);
		memset(bad + 5, 0xff, 32); /* x = 2^256 - 1 is not a field element */
		CHECK_RC(fwc_event_body_decode_known(&e2, bad, blen, &a, NULL), FWC_ERR_KEY);
		CHECK(fwc_event_body_decode(&e2, bad, blen, NULL) < 0);
	}
	/* The relayed form still encodes as before when event is set (body is not read). */
	{
		uint8_t obj[512];
		size_t olen = test_unhex(obj, sizeof(obj), ex_event);

		w.event.p = obj;
		w.event.len = olen;
		w.body.p = NULL;
		w.body.len = 12345; /* garbage a pre-field-2 caller may leave: ignored */
		CHECK_RC(fwc_pl_device_event_encode(buf, sizeof(buf), &buflen, &w), FWC_OK);
		CHECK(buf[0] == 0xa1 && buf[1] == 0x01);
		CHECK_RC(fwc_pl_device_event_decode(&dw, buf, buflen, NULL), FWC_OK);
		CHECK(dw.event.len == olen && dw.body.len == 0);
	}

	/* The transaction: body, digest, signature, id. */
	test_unhex(txbody, sizeof(txbody), ex_event_self_txbody);
	memset(&tx, 0, sizeof(tx));
	tx.type = FWC_TX_DEVICE_EVENT;
	tx.chain_id.p = "fwchain-dev";
	tx.chain_id.len = 11;
	tx.sender = key_of(KEY_B_HEX);
	tx.nonce = 3;
	tx.time = 1700000000;
	tx.payload.p = want;
	tx.payload.len = wantlen;
	CHECK_RC(fwc_tx_encode_body(buf, sizeof(buf), &tblen, &tx, NULL), FWC_OK);
	CHECK(tblen == test_unhex(txbody, sizeof(txbody), ex_event_self_txbody) &&
	      memcmp(buf, txbody, tblen) == 0);
	CHECK_RC(fwc_tx_digest(digest, txbody, tblen), FWC_OK);
	test_unhex(wantd, sizeof(wantd), ex_event_self_txdigest);
	CHECK_MEM(digest, wantd, 32);
	unhex(ex_event_self_tx);
	CHECK_RC(fwc_tx_decode(&stx, want, wantlen, NULL), FWC_OK);
	CHECK_RC(fwc_tx_verify(&stx, NULL), FWC_OK);
	CHECK_RC(fwc_tx_id(id, want, wantlen), FWC_OK);
	test_unhex(wantid, sizeof(wantid), ex_event_self_txid);
	CHECK_MEM(id, wantid, 32);
	CHECK_RC(fwc_pl_device_event_decode(&dw, stx.tx.payload.p, stx.tx.payload.len, NULL),
	         FWC_OK);
	CHECK_RC(fwc_event_body_decode(&ev, dw.body.p, dw.body.len, NULL), FWC_OK);
	CHECK(fwc_pubkey_equal(&ev.device, &stx.tx.sender));
	/* One flipped bit of the event inside breaks the one signature. */
	want[wantlen - 64 - 3 - 1] ^= 0x01;
	CHECK_RC(fwc_tx_decode(&stx, want, wantlen, NULL), FWC_OK);
	CHECK_RC(fwc_tx_verify(&stx, NULL), FWC_ERR_BADSIG);

	/* Refusals: both fields, neither, a body that is not a valid event body, an empty
	 * body to the encoder. */
	{
		static const char both_head[] = "a20141a002";
		uint8_t both[512];
		size_t n = test_unhex(both, sizeof(both), both_head);

		memcpy(both + n, body, blen);
		memset(&ei, 0, sizeof(ei));
		CHECK_RC(fwc_pl_device_event_decode(&dw, both, n + blen, &ei), FWC_ERR_MALFORMED);
		CHECK(ei.msg[0] != '\0');
	}
	unhex("a0");
	memset(&ei, 0, sizeof(ei));
	CHECK_RC(fwc_pl_device_event_decode(&dw, want, wantlen, &ei), FWC_ERR_MISSING_FIELD);
	CHECK(ei.msg[0] != '\0');
	/* Sequence number 0 inside field 2. */
	unhex(ex_event_self_payload);
	CHECK(want[39] == 0x02 && want[40] == 0x07); /* a1 02 a6 01 58 21 <33 bytes> 02 07 */
	want[40] = 0x00;
	/* Field 2 is an opaque map to the payload decoder (as field 1 is opaque bytes): the
	 * event's rules are the body decoder's. */
	CHECK_RC(fwc_pl_device_event_decode(&dw, want, wantlen, NULL), FWC_OK);
	memset(&ei, 0, sizeof(ei));
	CHECK_RC(fwc_event_body_decode(&ev, want + 2, wantlen - 2, &ei), FWC_ERR_RANGE);
	CHECK(ei.msg[0] != '\0');
	/* Field 2 not a map, or not canonical. */
	unhex("a10207");
	memset(&ei, 0, sizeof(ei));
	CHECK_RC(fwc_pl_device_event_decode(&dw, want, wantlen, &ei), FWC_ERR_TYPE);
	CHECK(ei.msg[0] != '\0');
	unhex("a102b80100"); /* {0: ...} with a 1-byte count head that should be inline */
	CHECK(fwc_pl_device_event_decode(&dw, want, wantlen, NULL) < 0);
	/* Trailing bytes after a body. */
	body[blen] = 0x00;
	CHECK_RC(fwc_event_body_decode(&ev, body, blen + 1, NULL), FWC_ERR_TRAILING);
	memset(&w, 0, sizeof(w));
	CHECK_RC(fwc_pl_device_event_encode(buf, sizeof(buf), &buflen, &w), FWC_ERR_RANGE);
	w.body.p = (const uint8_t *)"\x07";
	w.body.len = 1;
	CHECK_RC(fwc_pl_device_event_encode(buf, sizeof(buf), &buflen, &w), FWC_ERR_TYPE);
}

static void test_map_rules(void)
{
	struct fwc_pl_org_register d;
	struct fwc_errinfo ei;
	uint8_t in[256];
	size_t n;

	/* Key 64 is ignored: map of 4 with {64: 0} appended. */
	n = test_unhex(in, sizeof(in), ex_org_register);
	in[0] = 0xa4;
	in[n++] = 0x18;
	in[n++] = 0x40;
	in[n++] = 0x00;
	CHECK_RC(fwc_pl_org_register_decode(&d, in, n, NULL), FWC_OK);
	CHECK(str_is(d.id, "acme"));
	/* Key 63 is critical. */
	in[n - 2] = 0x3f;
	CHECK_RC(fwc_pl_org_register_decode(&d, in, n - 1, &ei), FWC_ERR_UNKNOWN_FIELD);
	CHECK(strstr(ei.msg, "63") != NULL);
	/* Key 4 (undefined) is critical too. */
	n = test_unhex(in, sizeof(in), ex_org_register);
	in[0] = 0xa4;
	in[n++] = 0x04;
	in[n++] = 0x00;
	CHECK_RC(fwc_pl_org_register_decode(&d, in, n, NULL), FWC_ERR_UNKNOWN_FIELD);
	/* Missing field 3: a map of 2 with fields 1 and 2 only. */
	n = test_unhex(in, sizeof(in), "a2016461636d65026941434d4520436f7270");
	CHECK_RC(fwc_pl_org_register_decode(&d, in, n, &ei), FWC_ERR_MISSING_FIELD);
	/* Trailing byte. */
	n = test_unhex(in, sizeof(in), ex_org_register);
	in[n++] = 0x00;
	CHECK_RC(fwc_pl_org_register_decode(&d, in, n, NULL), FWC_ERR_TRAILING);
	/* Truncated. */
	CHECK(fwc_pl_org_register_decode(&d, in, n - 5, NULL) < 0);
	/* Keys out of order: fields 2 then 1. */
	n = test_unhex(in, sizeof(in), "a3026941434d4520436f7270016461636d65");
	CHECK_RC(fwc_pl_org_register_decode(&d, in, n, NULL), FWC_ERR_UNSORTED);
	/* Upper case id. */
	n = test_unhex(in, sizeof(in), ex_org_register);
	in[3] = 'A';
	CHECK_RC(fwc_pl_org_register_decode(&d, in, n, NULL), FWC_ERR_MALFORMED);
	/* A text key instead of an integer key. */
	n = test_unhex(in, sizeof(in), "a16161016161");
	CHECK_RC(fwc_pl_org_register_decode(&d, in, n, NULL), FWC_ERR_TYPE);
	/* An x coordinate that is not on the curve (all 0xff is above p). */
	n = test_unhex(in, sizeof(in), ex_org_register);
	memset(in + n - 32, 0xff, 32);
	CHECK_RC(fwc_pl_org_register_decode(&d, in, n, NULL), FWC_ERR_KEY);
	/* Not a map at all. */
	CHECK_RC(fwc_pl_org_register_decode(&d, (const uint8_t *)"\x80", 1, NULL), FWC_ERR_TYPE);
	CHECK(fwc_pl_org_register_decode(&d, NULL, 0, NULL) < 0);
}

static void test_dispatch(void)
{
	struct fwc_payload pl;

	unhex(ex_rollout);
	CHECK_RC(fwc_payload_decode(&pl, FWC_TX_ROLLOUT_CONTROL, want, wantlen, NULL), FWC_OK);
	CHECK(pl.type == FWC_TX_ROLLOUT_CONTROL && pl.u.rollout.action == FWC_ROLLOUT_PAUSE);
	/* The same bytes are not a valid ORG_REGISTER. */
	CHECK(fwc_payload_decode(&pl, FWC_TX_ORG_REGISTER, want, wantlen, NULL) < 0);
	CHECK_RC(fwc_payload_decode(&pl, 0, want, wantlen, NULL), FWC_ERR_UNSUPPORTED);
	CHECK_RC(fwc_payload_decode(&pl, FWC_TX_TYPE_MAX + 1, want, wantlen, NULL),
	         FWC_ERR_UNSUPPORTED);
	CHECK(fwc_pl_id_valid("a", 1, 64) && !fwc_pl_id_valid("-a", 2, 64) &&
	      !fwc_pl_id_valid("", 0, 64) && fwc_pl_id_valid("a.b_c-9", 7, 64) &&
	      !fwc_pl_id_valid("ab", 2, 1));
}

int main(void)
{
	RUN(test_org_register);
	RUN(test_member);
	RUN(test_device_register);
	RUN(test_release_ops);
	RUN(test_config_licence);
	RUN(test_key_revoke_validators);
	RUN(test_product_and_statement);
	RUN(test_event);
	RUN(test_event_self);
	RUN(test_map_rules);
	RUN(test_dispatch);
	return test_done();
}
