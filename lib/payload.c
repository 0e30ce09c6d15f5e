/* Typed transaction payloads, the device event and the key-set rotation statement.
 *
 * Every payload is a CBOR map with small unsigned keys. Decoding walks the map once with a
 * small reader (struct rd) that hands out the next defined key, skips keys >= 64 (ignored by
 * design, so later versions can add optional fields) and refuses undefined keys below 64
 * (critical). Each field has one checking helper used by both decoder and encoder, so what the
 * encoder writes is exactly what the decoder accepts. Nothing is allocated: strings and nested
 * objects are pointers into the input. Formats: docs/formats/payloads.md. */
#include "fwchain/payload.h"

#include "fwchain/cbor.h"
#include "fwchain/hex.h"
#include "fwchain/sha256.h"

#include <string.h>

#define FIRST_IGNORED_KEY 64

/* ---------------------------------------------------------------------------------------- */
/* Field checks shared by encoders and decoders                                             */

int fwc_pl_id_valid(const char *s, size_t len, size_t max)
{
	size_t i;

	if (s == NULL || len == 0 || len > max)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (i > 0)
			ok = ok || c == '.' || c == '_' || c == '-';
		if (!ok)
			return 0;
	}
	return 1;
}

static int utf8_ok(const char *s, size_t len)
{
	return len == 0 || (s != NULL && fwc_utf8_valid((const uint8_t *)s, len, NULL));
}

static int check_id(struct fwc_errinfo *ei, size_t off, unsigned key, struct fwc_cbor_str v,
                    size_t max)
{
	if (!fwc_pl_id_valid(v.p, v.len, max))
		return fwc_fail(ei, off, FWC_ERR_MALFORMED,
		                "field %u: not an id ([a-z0-9][a-z0-9._-]*, 1..%zu bytes)", key,
		                max);
	return FWC_OK;
}

static int check_text(struct fwc_errinfo *ei, size_t off, unsigned key, struct fwc_cbor_str v,
                      size_t min, size_t max)
{
	if (v.len < min || v.len > max)
		return fwc_fail(ei, off, FWC_ERR_RANGE, "field %u: %zu bytes, want %zu..%zu", key,
		                v.len, min, max);
	if (!utf8_ok(v.p, v.len))
		return fwc_fail(ei, off, FWC_ERR_MALFORMED, "field %u: invalid UTF-8", key);
	return FWC_OK;
}

static int check_hwid(struct fwc_errinfo *ei, size_t off, unsigned key, struct fwc_cbor_str v)
{
	size_t i;

	if (v.len == 0 || v.len > FWC_PL_HWID_MAX || v.p == NULL)
		return fwc_fail(ei, off, FWC_ERR_RANGE,
		                "field %u: hardware id of %zu bytes, want 1..%d", key, v.len,
		                FWC_PL_HWID_MAX);
	for (i = 0; i < v.len; i++)
		if ((unsigned char)v.p[i] < 0x21 || (unsigned char)v.p[i] > 0x7e)
			return fwc_fail(ei, off, FWC_ERR_MALFORMED,
			                "field %u: hardware id byte %zu is not printable ASCII",
			                key, i);
	return FWC_OK;
}

/* Bytewise order of two strings as their CBOR encodings compare when of one major type:
 * shorter first, then lexicographic (RFC 8949 §4.2.1). */
static int cbor_str_cmp(struct fwc_cbor_str a, struct fwc_cbor_str b)
{
	if (a.len != b.len)
		return a.len < b.len ? -1 : 1;
	return a.len == 0 ? 0 : memcmp(a.p, b.p, a.len);
}

static int check_groups(struct fwc_errinfo *ei, size_t off, unsigned key,
                        const struct fwc_pl_groups *g)
{
	size_t i;
	int rc;

	if (g->n > FWC_PL_GROUPS_MAX)
		return fwc_fail(ei, off, FWC_ERR_TOO_LARGE, "field %u: %zu groups, at most %d", key,
		                g->n, FWC_PL_GROUPS_MAX);
	for (i = 0; i < g->n; i++) {
		if ((rc = check_id(ei, off, key, g->v[i], FWC_PL_GROUP_MAX)) < 0)
			return rc;
		/* Plain bytewise order (not CBOR length-first order): it is the natural sort of
		 * group names and what SQL's BLOB comparison gives. */
		if (i > 0) {
			size_t m = g->v[i - 1].len < g->v[i].len ? g->v[i - 1].len : g->v[i].len;
			int c = memcmp(g->v[i - 1].p, g->v[i].p, m);

			if (c > 0 || (c == 0 && g->v[i - 1].len >= g->v[i].len))
				return fwc_fail(
				    ei, off,
				    c == 0 && g->v[i - 1].len == g->v[i].len ? FWC_ERR_DUPLICATE
				                                             : FWC_ERR_UNSORTED,
				    "field %u: groups must be sorted and distinct (item %zu)", key,
				    i);
		}
	}
	return FWC_OK;
}

static int check_attrs(struct fwc_errinfo *ei, size_t off, unsigned key,
                       const struct fwc_pl_attrs *a)
{
	size_t i;
	int rc;

	if (a->n > FWC_PL_ATTRS_MAX)
		return fwc_fail(ei, off, FWC_ERR_TOO_LARGE, "field %u: %zu attributes, at most %d",
		                key, a->n, FWC_PL_ATTRS_MAX);
	for (i = 0; i < a->n; i++) {
		if ((rc = check_text(ei, off, key, a->v[i].key, 1, FWC_PL_ATTR_KEY_MAX)) < 0 ||
		    (rc = check_text(ei, off, key, a->v[i].value, 0, FWC_PL_ATTR_VALUE_MAX)) < 0)
			return rc;
		/* The encoder must write keys in canonical CBOR order; refuse rather than sort. */
		if (i > 0 && cbor_str_cmp(a->v[i - 1].key, a->v[i].key) >= 0)
			return fwc_fail(
			    ei, off, FWC_ERR_UNSORTED,
			    "field %u: attribute keys not in canonical order (item %zu)", key, i);
	}
	return FWC_OK;
}

static int check_pubkey(struct fwc_errinfo *ei, size_t off, unsigned key,
                        const struct fwc_pubkey *pk)
{
	if (fwc_pubkey_check(pk) != FWC_OK)
		return fwc_fail(ei, off, FWC_ERR_KEY, "field %u: invalid public key", key);
	return FWC_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Reader                                                                                   */

struct rd {
	struct fwc_cbor_dec dec;
	struct fwc_errinfo *ei;
	uint64_t left;  /* map pairs not yet read */
	size_t key_off; /* offset of the current key (for messages) */
	uint64_t seen;  /* bit k: key k was read */
};

static int rd_open(struct rd *r, const uint8_t *in, size_t len, struct fwc_errinfo *ei)
{
	if (in == NULL && len != 0)
		return FWC_ERR_ARG;
	memset(r, 0, sizeof(*r));
	r->ei = ei;
	fwc_cbor_dec_init(&r->dec, in, len, FWC_PL_OBJECT_MAX, ei);
	return fwc_cbor_get_map(&r->dec, &r->left);
}

/* Next defined key into *key: returns 1 with a key, 0 at the end of the map, < 0 on error.
 * Ignored keys (>= 64) are skipped with their values; their encoding is still checked. */
static int rd_next(struct rd *r, unsigned *key)
{
	int rc;

	while (r->left > 0) {
		uint64_t k;
		enum fwc_cbor_type t;

		r->left--;
		r->key_off = r->dec.pos;
		if ((rc = fwc_cbor_peek(&r->dec, &t)) < 0)
			return rc;
		if (t != FWC_CBOR_UINT)
			return fwc_fail(r->ei, r->key_off, FWC_ERR_TYPE,
			                "map key is not an unsigned integer");
		if ((rc = fwc_cbor_get_uint(&r->dec, &k)) < 0)
			return rc;
		if (k >= FIRST_IGNORED_KEY) {
			if ((rc = fwc_cbor_skip(&r->dec, NULL, NULL)) < 0)
				return rc;
			continue;
		}
		r->seen |= (uint64_t)1 << k;
		*key = (unsigned)k;
		return 1;
	}
	return 0;
}

static int rd_unknown(struct rd *r, unsigned key)
{
	return fwc_fail(r->ei, r->key_off, FWC_ERR_UNKNOWN_FIELD, "unknown critical field %u", key);
}

/* After the map: the top-level item must be complete (when top) and every required key seen. */
static int rd_close(struct rd *r, uint64_t required, int top)
{
	uint64_t missing = required & ~r->seen;
	int rc;
	unsigned k;

	if (top && (rc = fwc_cbor_finish(&r->dec)) < 0)
		return rc;
	if (missing) {
		for (k = 0; !(missing & ((uint64_t)1 << k)); k++)
			;
		return fwc_fail(r->ei, r->dec.pos, FWC_ERR_MISSING_FIELD,
		                "required field %u is missing", k);
	}
	return FWC_OK;
}

static int rd_text(struct rd *r, unsigned key, struct fwc_cbor_str *v, size_t min, size_t max)
{
	size_t off = r->dec.pos;
	int rc = fwc_cbor_get_text(&r->dec, &v->p, &v->len);

	if (rc < 0)
		return rc;
	return check_text(r->ei, off, key, *v, min, max);
}

static int rd_id(struct rd *r, unsigned key, struct fwc_cbor_str *v, size_t max)
{
	size_t off = r->dec.pos;
	int rc = fwc_cbor_get_text(&r->dec, &v->p, &v->len);

	if (rc < 0)
		return rc;
	return check_id(r->ei, off, key, *v, max);
}

static int rd_hwid(struct rd *r, unsigned key, struct fwc_cbor_str *v)
{
	size_t off = r->dec.pos;
	int rc = fwc_cbor_get_text(&r->dec, &v->p, &v->len);

	if (rc < 0)
		return rc;
	return check_hwid(r->ei, off, key, *v);
}

static int rd_uint(struct rd *r, uint64_t *v)
{
	return fwc_cbor_get_uint(&r->dec, v);
}

static int rd_uint_max(struct rd *r, unsigned key, uint32_t *v, uint64_t max)
{
	size_t off = r->dec.pos;
	uint64_t x;
	int rc = fwc_cbor_get_uint(&r->dec, &x);

	if (rc < 0)
		return rc;
	if (x > max)
		return fwc_fail(r->ei, off, FWC_ERR_RANGE, "field %u: %llu is above %llu", key,
		                (unsigned long long)x, (unsigned long long)max);
	*v = (uint32_t)x;
	return FWC_OK;
}

static int rd_key(struct rd *r, unsigned key, struct fwc_pubkey *pk)
{
	size_t off = r->dec.pos;
	const uint8_t *p;
	size_t n;
	int rc = fwc_cbor_get_bytes(&r->dec, &p, &n);

	if (rc < 0)
		return rc;
	if (fwc_pubkey_from_bin(pk, p, n, NULL) != FWC_OK)
		return fwc_fail(r->ei, off, FWC_ERR_KEY,
		                "field %u: not a valid public key (33 bytes: algorithm, key)", key);
	return FWC_OK;
}

static int rd_bytes(struct rd *r, unsigned key, struct fwc_cbor_bytes *v, size_t min, size_t max)
{
	size_t off = r->dec.pos;
	int rc = fwc_cbor_get_bytes(&r->dec, &v->p, &v->len);

	if (rc < 0)
		return rc;
	if (v->len < min || v->len > max)
		return fwc_fail(r->ei, off, FWC_ERR_RANGE, "field %u: %zu bytes, want %zu..%zu",
		                key, v->len, min, max);
	return FWC_OK;
}

static int rd_fixed(struct rd *r, unsigned key, uint8_t *out, size_t n)
{
	struct fwc_cbor_bytes b;
	int rc = rd_bytes(r, key, &b, n, n);

	if (rc < 0)
		return rc;
	memcpy(out, b.p, n);
	return FWC_OK;
}

/* An embedded CBOR item (not wrapped in a byte string): its encoding's span. */
static int rd_item(struct rd *r, struct fwc_cbor_bytes *v)
{
	size_t start, n;
	int rc = fwc_cbor_skip(&r->dec, &start, &n);

	if (rc < 0)
		return rc;
	v->p = r->dec.buf + start;
	v->len = n;
	return FWC_OK;
}

static int rd_groups(struct rd *r, unsigned key, struct fwc_pl_groups *g)
{
	size_t off = r->dec.pos;
	uint64_t n, i;
	int rc;

	if ((rc = fwc_cbor_get_array(&r->dec, &n)) < 0)
		return rc;
	if (n > FWC_PL_GROUPS_MAX)
		return fwc_fail(r->ei, off, FWC_ERR_TOO_LARGE, "field %u: %llu groups, at most %d",
		                key, (unsigned long long)n, FWC_PL_GROUPS_MAX);
	for (i = 0; i < n; i++)
		if ((rc = fwc_cbor_get_text(&r->dec, &g->v[i].p, &g->v[i].len)) < 0)
			return rc;
	g->n = (size_t)n;
	return check_groups(r->ei, off, key, g);
}

static int rd_attrs(struct rd *r, unsigned key, struct fwc_pl_attrs *a)
{
	size_t off = r->dec.pos;
	uint64_t n, i;
	int rc;

	if ((rc = fwc_cbor_get_map(&r->dec, &n)) < 0)
		return rc;
	if (n > FWC_PL_ATTRS_MAX)
		return fwc_fail(r->ei, off, FWC_ERR_TOO_LARGE,
		                "field %u: %llu attributes, at most %d", key, (unsigned long long)n,
		                FWC_PL_ATTRS_MAX);
	for (i = 0; i < n; i++) {
		/* The CBOR decoder already refuses unsorted or duplicate map keys. */
		if ((rc = fwc_cbor_get_text(&r->dec, &a->v[i].key.p, &a->v[i].key.len)) < 0 ||
		    (rc = fwc_cbor_get_text(&r->dec, &a->v[i].value.p, &a->v[i].value.len)) < 0)
			return rc;
	}
	a->n = (size_t)n;
	return check_attrs(r->ei, off, key, a);
}

/* ---------------------------------------------------------------------------------------- */
/* Writer helpers                                                                           */

static void put_key(struct fwc_cbor_enc *e, unsigned key)
{
	fwc_cbor_put_uint(e, key);
}

static void put_str(struct fwc_cbor_enc *e, unsigned key, struct fwc_cbor_str v)
{
	put_key(e, key);
	fwc_cbor_put_text(e, v.p, v.len);
}

static void put_bytes(struct fwc_cbor_enc *e, unsigned key, const void *p, size_t len)
{
	put_key(e, key);
	fwc_cbor_put_bytes(e, p, len);
}

static void put_pubkey(struct fwc_cbor_enc *e, unsigned key, const struct fwc_pubkey *pk)
{
	uint8_t bin[FWC_PUBKEY_BIN_LEN];

	/* check_pubkey() ran before, so this cannot fail. */
	(void)fwc_pubkey_to_bin(bin, pk);
	put_bytes(e, key, bin, sizeof(bin));
}

static void put_u(struct fwc_cbor_enc *e, unsigned key, uint64_t v)
{
	put_key(e, key);
	fwc_cbor_put_uint(e, v);
}

static void put_groups(struct fwc_cbor_enc *e, unsigned key, const struct fwc_pl_groups *g)
{
	size_t i;

	put_key(e, key);
	fwc_cbor_put_array(e, g->n);
	for (i = 0; i < g->n; i++)
		fwc_cbor_put_text(e, g->v[i].p, g->v[i].len);
}

static void put_attrs(struct fwc_cbor_enc *e, unsigned key, const struct fwc_pl_attrs *a)
{
	size_t i;

	put_key(e, key);
	fwc_cbor_put_map(e, a->n);
	for (i = 0; i < a->n; i++) {
		fwc_cbor_put_text(e, a->v[i].key.p, a->v[i].key.len);
		fwc_cbor_put_text(e, a->v[i].value.p, a->v[i].value.len);
	}
}

static int enc_done(struct fwc_cbor_enc *e, size_t *outlen)
{
	size_t n;
	int rc = fwc_cbor_enc_finish(e, &n);

	/* On BUFSIZE the caller learns the size to retry with. */
	if (rc == FWC_OK || rc == FWC_ERR_BUFSIZE)
		*outlen = n;
	return rc;
}

#define ENC_PROLOGUE()                                                                             \
	struct fwc_cbor_enc e_;                                                                    \
	struct fwc_cbor_enc *e = &e_;                                                              \
	int rc = FWC_OK;                                                                           \
	if (p == NULL || outlen == NULL || (out == NULL && cap != 0))                              \
		return FWC_ERR_ARG;                                                                \
	fwc_cbor_enc_init(e, out, cap)

/* ---------------------------------------------------------------------------------------- */
/* ORG_REGISTER                                                                             */

int fwc_pl_org_register_encode(uint8_t *out, size_t cap, size_t *outlen,
                               const struct fwc_pl_org_register *p)
{
	ENC_PROLOGUE();
	if ((rc = check_id(NULL, 0, 1, p->id, FWC_PL_ID_MAX)) < 0 ||
	    (rc = check_text(NULL, 0, 2, p->name, 1, FWC_PL_NAME_MAX)) < 0 ||
	    (rc = check_pubkey(NULL, 0, 3, &p->admin)) < 0)
		return rc;
	fwc_cbor_put_map(e, 3);
	put_str(e, 1, p->id);
	put_str(e, 2, p->name);
	put_pubkey(e, 3, &p->admin);
	return enc_done(e, outlen);
}

int fwc_pl_org_register_decode(struct fwc_pl_org_register *p, const uint8_t *in, size_t len,
                               struct fwc_errinfo *ei)
{
	struct fwc_pl_org_register v;
	struct rd r;
	unsigned k;
	int rc;

	if (p == NULL)
		return FWC_ERR_ARG;
	memset(&v, 0, sizeof(v));
	if ((rc = rd_open(&r, in, len, ei)) < 0)
		return rc;
	while ((rc = rd_next(&r, &k)) > 0) {
		switch (k) {
		case 1:
			rc = rd_id(&r, k, &v.id, FWC_PL_ID_MAX);
			break;
		case 2:
			rc = rd_text(&r, k, &v.name, 1, FWC_PL_NAME_MAX);
			break;
		case 3:
			rc = rd_key(&r, k, &v.admin);
			break;
		default:
			rc = rd_unknown(&r, k);
		}
		if (rc < 0)
			return rc;
	}
	if (rc < 0 || (rc = rd_close(&r, 0xe, 1)) < 0)
		return rc;
	*p = v;
	return FWC_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* MEMBER_ADD, MEMBER_REMOVE                                                                */

static int check_role(uint32_t role)
{
	return role >= FWC_ROLE_ADMIN && role <= FWC_ROLE_AUDITOR;
}

static int rd_role(struct rd *r, unsigned key, uint32_t *role)
{
	size_t off = r->dec.pos;
	int rc = rd_uint_max(r, key, role, FWC_ROLE_AUDITOR);

	if (rc == FWC_OK && !check_role(*role))
		rc = fwc_fail(r->ei, off, FWC_ERR_RANGE, "field %u: role must be 1..%d", key,
		              FWC_ROLE_AUDITOR);
	return rc;
}

int fwc_pl_member_add_encode(uint8_t *out, size_t cap, size_t *outlen,
                             const struct fwc_pl_member_add *p)
{
	ENC_PROLOGUE();
	if ((rc = check_pubkey(NULL, 0, 1, &p->key)) < 0)
		return rc;
	if (!check_role(p->role))
		return FWC_ERR_RANGE;
	if (p->has_label && (rc = check_text(NULL, 0, 3, p->label, 1, FWC_PL_NAME_MAX)) < 0)
		return rc;
	fwc_cbor_put_map(e, p->has_label ? 3 : 2);
	put_pubkey(e, 1, &p->key);
	put_u(e, 2, p->role);
	if (p->has_label)
		put_str(e, 3, p->label);
	return enc_done(e, outlen);
}

int fwc_pl_member_add_decode(struct fwc_pl_member_add *p, const uint8_t *in, size_t len,
                             struct fwc_errinfo *ei)
{
	struct fwc_pl_member_add v;
	struct rd r;
	unsigned k;
	int rc;

	if (p == NULL)
		return FWC_ERR_ARG;
	memset(&v, 0, sizeof(v));
	if ((rc = rd_open(&r, in, len, ei)) < 0)
		return rc;
	while ((rc = rd_next(&r, &k)) > 0) {
		switch (k) {
		case 1:
			rc = rd_key(&r, k, &v.key);
			break;
		case 2:
			rc = rd_role(&r, k, &v.role);
			break;
		case 3:
			v.has_label = 1;
			rc = rd_text(&r, k, &v.label, 1, FWC_PL_NAME_MAX);
			break;
		default:
			rc = rd_unknown(&r, k);
		}
		if (rc < 0)
			return rc;
	}
	if (rc < 0 || (rc = rd_close(&r, 0x6, 1)) < 0)
		return rc;
	*p = v;
	return FWC_OK;
}

int fwc_pl_member_remove_encode(uint8_t *out, size_t cap, size_t *outlen,
                                const struct fwc_pl_member_remove *p)
{
	ENC_PROLOGUE();
	if ((rc = check_pubkey(NULL, 0, 1, &p->key)) < 0)
		return rc;
	if (p->role != 0 && !check_role(p->role))
		return FWC_ERR_RANGE;
	fwc_cbor_put_map(e, p->role ? 2 : 1);
	put_pubkey(e, 1, &p->key);
	if (p->role)
		put_u(e, 2, p->role);
	return enc_done(e, outlen);
}

int fwc_pl_member_remove_decode(struct fwc_pl_member_remove *p, const uint8_t *in, size_t len,
                                struct fwc_errinfo *ei)
{
	struct fwc_pl_member_remove v;
	struct rd r;
	unsigned k;
	int rc;

	if (p == NULL)
		return FWC_ERR_ARG;
	memset(&v, 0, sizeof(v));
	if ((rc = rd_open(&r, in, len, ei)) < 0)
		return rc;
	while ((rc = rd_next(&r, &k)) > 0) {
		switch (k) {
		case 1:
			rc = rd_key(&r, k, &v.key);
			break;
		case 2:
			rc = rd_role(&r, k, &v.role);
			break;
		default:
			rc = rd_unknown(&r, k);
		}
		if (rc < 0)
			return rc;
	}
	if (rc < 0 || (rc = rd_close(&r, 0x2, 1)) < 0)
		return rc;
	*p = v;
	return FWC_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* KEY_REVOKE                                                                               */

int fwc_pl_key_revoke_encode(uint8_t *out, size_t cap, size_t *outlen,
                             const struct fwc_pl_key_revoke *p)
{
	ENC_PROLOGUE();
	if ((rc = check_pubkey(NULL, 0, 1, &p->key)) < 0 ||
	    (rc = check_text(NULL, 0, 2, p->reason, 0, FWC_PL_REASON_MAX)) < 0)
		return rc;
	fwc_cbor_put_map(e, p->reason.len ? 2 : 1);
	put_pubkey(e, 1, &p->key);
	if (p->reason.len)
		put_str(e, 2, p->reason);
	return enc_done(e, outlen);
}

int fwc_pl_key_revoke_decode(struct fwc_pl_key_revoke *p, const uint8_t *in, size_t len,
                             struct fwc_errinfo *ei)
{
	struct fwc_pl_key_revoke v;
	struct rd r;
	unsigned k;
	int rc;

	if (p == NULL)
		return FWC_ERR_ARG;
	memset(&v, 0, sizeof(v));
	if ((rc = rd_open(&r, in, len, ei)) < 0)
		return rc;
	while ((rc = rd_next(&r, &k)) > 0) {
		switch (k) {
		case 1:
			rc = rd_key(&r, k, &v.key);
			break;
		/* An absent reason and an empty one mean the same; only absent is canonical. */
		case 2:
			rc = rd_text(&r, k, &v.reason, 1, FWC_PL_REASON_MAX);
			break;
		default:
			rc = rd_unknown(&r, k);
		}
		if (rc < 0)
			return rc;
	}
	if (rc < 0 || (rc = rd_close(&r, 0x2, 1)) < 0)
		return rc;
	*p = v;
	return FWC_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* PRODUCT_REGISTER                                                                         */

static int check_keyset(struct fwc_errinfo *ei, size_t off, unsigned key, struct fwc_cbor_bytes v)
{
	struct fwc_keyset ks;
	struct fwc_errinfo inner;
	int rc;

	if (v.p == NULL || v.len == 0)
		return fwc_fail(ei, off, FWC_ERR_MALFORMED, "field %u: empty key set", key);
	if ((rc = fwc_keyset_decode(&ks, v.p, v.len, &inner)) < 0)
		return fwc_fail(ei, off + inner.offset, rc, "field %u: key set: %s", key,
		                inner.msg);
	return FWC_OK;
}

int fwc_pl_product_register_encode(uint8_t *out, size_t cap, size_t *outlen,
                                   const struct fwc_pl_product_register *p)
{
	ENC_PROLOGUE();
	if ((rc = check_id(NULL, 0, 1, p->id, FWC_PL_ID_MAX)) < 0 ||
	    (rc = check_text(NULL, 0, 2, p->name, 1, FWC_PL_NAME_MAX)) < 0 ||
	    (rc = check_keyset(NULL, 0, 3, p->root_set)) < 0)
		return rc;
	fwc_cbor_put_map(e, 3);
	put_str(e, 1, p->id);
	put_str(e, 2, p->name);
	put_key(e, 3);
	fwc_cbor_put_raw(e, p->root_set.p, p->root_set.len);
	return enc_done(e, outlen);
}

int fwc_pl_product_register_decode(struct fwc_pl_product_register *p, const uint8_t *in, size_t len,
                                   struct fwc_errinfo *ei)
{
	struct fwc_pl_product_register v;
	struct rd r;
	unsigned k;
	int rc;

	if (p == NULL)
		return FWC_ERR_ARG;
	memset(&v, 0, sizeof(v));
	if ((rc = rd_open(&r, in, len, ei)) < 0)
		return rc;
	while ((rc = rd_next(&r, &k)) > 0) {
		size_t off = r.dec.pos;

		switch (k) {
		case 1:
			rc = rd_id(&r, k, &v.id, FWC_PL_ID_MAX);
			break;
		case 2:
			rc = rd_text(&r, k, &v.name, 1, FWC_PL_NAME_MAX);
			break;
		case 3:
			if ((rc = rd_item(&r, &v.root_set)) == FWC_OK)
				rc = check_keyset(ei, off, k, v.root_set);
			break;
		default:
			rc = rd_unknown(&r, k);
		}
		if (rc < 0)
			return rc;
	}
	if (rc < 0 || (rc = rd_close(&r, 0xe, 1)) < 0)
		return rc;
	*p = v;
	return FWC_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Payloads that wrap one signed object in a byte string                                    */

static int enc_wrapped(uint8_t *out, size_t cap, size_t *outlen, struct fwc_cbor_bytes obj)
{
	struct fwc_cbor_enc e;

	if (outlen == NULL || (out == NULL && cap != 0))
		return FWC_ERR_ARG;
	if (obj.p == NULL || obj.len == 0 || obj.len > FWC_PL_OBJECT_MAX)
		return FWC_ERR_RANGE;
	fwc_cbor_enc_init(&e, out, cap);
	fwc_cbor_put_map(&e, 1);
	put_bytes(&e, 1, obj.p, obj.len);
	return enc_done(&e, outlen);
}

static int dec_wrapped(struct fwc_cbor_bytes *obj, const uint8_t *in, size_t len,
                       struct fwc_errinfo *ei)
{
	struct fwc_cbor_bytes v = {0};
	struct rd r;
	unsigned k;
	int rc;

	if ((rc = rd_open(&r, in, len, ei)) < 0)
		return rc;
	while ((rc = rd_next(&r, &k)) > 0) {
		if (k == 1)
			rc = rd_bytes(&r, k, &v, 1, FWC_PL_OBJECT_MAX);
		else
			rc = rd_unknown(&r, k);
		if (rc < 0)
			return rc;
	}
	if (rc < 0 || (rc = rd_close(&r, 0x2, 1)) < 0)
		return rc;
	*obj = v;
	return FWC_OK;
}

int fwc_pl_keyset_statement_encode(uint8_t *out, size_t cap, size_t *outlen,
                                   const struct fwc_pl_keyset_statement *p)
{
	return p == NULL ? FWC_ERR_ARG : enc_wrapped(out, cap, outlen, p->statement);
}

int fwc_pl_keyset_statement_decode(struct fwc_pl_keyset_statement *p, const uint8_t *in, size_t len,
                                   struct fwc_errinfo *ei)
{
	return p == NULL ? FWC_ERR_ARG : dec_wrapped(&p->statement, in, len, ei);
}

int fwc_pl_release_encode(uint8_t *out, size_t cap, size_t *outlen, const struct fwc_pl_release *p)
{
	return p == NULL ? FWC_ERR_ARG : enc_wrapped(out, cap, outlen, p->manifest);
}

int fwc_pl_release_decode(struct fwc_pl_release *p, const uint8_t *in, size_t len,
                          struct fwc_errinfo *ei)
{
	return p == NULL ? FWC_ERR_ARG : dec_wrapped(&p->manifest, in, len, ei);
}

/* Field 2 of a device-event payload is one canonical CBOR map (its event rules are
 * fwc_event_body_decode's, applied by whoever uses the event, as field 1's are
 * fwc_event_decode's). */
static int body_item_check(const uint8_t *in, size_t len, struct fwc_errinfo *ei, size_t base)
{
	struct fwc_errinfo sub = {0};
	int rc;

	if (len == 0 || (in[0] >> 5) != 5)
		return fwc_fail(ei, base, FWC_ERR_TYPE, "field 2: the event body must be a map");
	if ((rc = fwc_cbor_validate(in, len, FWC_PL_OBJECT_MAX, &sub)) < 0)
		return fwc_fail(ei, base + sub.offset, rc, "field 2: %s", sub.msg);
	return FWC_OK;
}

/* The two forms of a device-event payload: field 1 (a signed event object, wrapped as every
 * signed object is) or field 2 (the event body itself, signed by the transaction's envelope);
 * exactly one. The body of field 2 is embedded as a map, as in the event object, so its bytes
 * are exactly what fwc_event_body_encode writes and what a reader re-hashes. */
int fwc_pl_device_event_encode(uint8_t *out, size_t cap, size_t *outlen,
                               const struct fwc_pl_device_event *p)
{
	struct fwc_cbor_enc e;
	int rc;

	/* Field 1 decides, so callers written before field 2 existed, which set only event, never
	 * have body read. */
	if (p == NULL)
		return FWC_ERR_ARG;
	if (p->event.len != 0)
		return enc_wrapped(out, cap, outlen, p->event);
	if (outlen == NULL || (out == NULL && cap != 0))
		return FWC_ERR_ARG;
	if (p->body.p == NULL || p->body.len == 0 || p->body.len > FWC_PL_OBJECT_MAX)
		return FWC_ERR_RANGE;
	if ((rc = body_item_check(p->body.p, p->body.len, NULL, 0)) < 0)
		return rc;
	fwc_cbor_enc_init(&e, out, cap);
	fwc_cbor_put_map(&e, 1);
	put_key(&e, 2);
	fwc_cbor_put_raw(&e, p->body.p, p->body.len);
	return enc_done(&e, outlen);
}

int fwc_pl_device_event_decode(struct fwc_pl_device_event *p, const uint8_t *in, size_t len,
                               struct fwc_errinfo *ei)
{
	struct fwc_pl_device_event v;
	struct rd r;
	unsigned k;
	int rc;

	if (p == NULL)
		return FWC_ERR_ARG;
	memset(&v, 0, sizeof(v));
	if ((rc = rd_open(&r, in, len, ei)) < 0)
		return rc;
	while ((rc = rd_next(&r, &k)) > 0) {
		size_t off = r.dec.pos;

		switch (k) {
		case 1:
			rc = rd_bytes(&r, k, &v.event, 1, FWC_PL_OBJECT_MAX);
			break;
		case 2:
			if ((rc = rd_item(&r, &v.body)) == FWC_OK)
				rc = body_item_check(v.body.p, v.body.len, ei, off);
			break;
		default:
			rc = rd_unknown(&r, k);
		}
		if (rc < 0)
			return rc;
	}
	if (rc < 0 || (rc = rd_close(&r, 0, 1)) < 0)
		return rc;
	if (v.event.len != 0 && v.body.len != 0)
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED,
		                "fields 1 (signed event) and 2 (event body) exclude each other");
	if (v.event.len == 0 && v.body.len == 0)
		return fwc_fail(ei, r.dec.pos, FWC_ERR_MISSING_FIELD,
		                "required field 1 (signed event) or 2 (event body) is missing");
	*p = v;
	return FWC_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* DEVICE_REGISTER                                                                          */

int fwc_pl_device_register_encode(uint8_t *out, size_t cap, size_t *outlen,
                                  const struct fwc_pl_device_register *p)
{
	unsigned n = 3;

	ENC_PROLOGUE();
	if ((rc = check_pubkey(NULL, 0, 1, &p->device)) < 0 ||
	    (rc = check_id(NULL, 0, 2, p->product, FWC_PL_ID_MAX)) < 0 ||
	    (rc = check_hwid(NULL, 0, 3, p->hwid)) < 0 ||
	    (rc = check_groups(NULL, 0, 4, &p->groups)) < 0 ||
	    (rc = check_text(NULL, 0, 5, p->region, 0, FWC_PL_REGION_MAX)) < 0 ||
	    (rc = check_attrs(NULL, 0, 6, &p->attrs)) < 0)
		return rc;
	if ((p->update && p->counter > 0) || (p->retire && !p->update))
		return FWC_ERR_MALFORMED;
	/* Empty optional fields are left out: absent is their one canonical form. */
	n += (unsigned)((p->groups.n > 0) + (p->region.len > 0) + (p->attrs.n > 0) +
	                (p->counter > 0) + !!p->update + !!p->retire);
	fwc_cbor_put_map(e, n);
	put_pubkey(e, 1, &p->device);
	put_str(e, 2, p->product);
	put_str(e, 3, p->hwid);
	if (p->groups.n > 0)
		put_groups(e, 4, &p->groups);
	if (p->region.len > 0)
		put_str(e, 5, p->region);
	if (p->attrs.n > 0)
		put_attrs(e, 6, &p->attrs);
	if (p->counter > 0)
		put_u(e, 7, p->counter);
	if (p->update) {
		put_key(e, 8);
		fwc_cbor_put_bool(e, 1);
	}
	if (p->retire) {
		put_key(e, 9);
		fwc_cbor_put_bool(e, 1);
	}
	return enc_done(e, outlen);
}

/* A flag whose only written value is true (false is written by leaving the field out). */
static int rd_flag(struct rd *r, unsigned key, int *v)
{
	size_t off = r->dec.pos;
	int rc = fwc_cbor_get_bool(&r->dec, v);

	if (rc == FWC_OK && !*v)
		rc = fwc_fail(r->ei, off, FWC_ERR_NONCANONICAL, "field %u: false must be left out",
		              key);
	return rc;
}

int fwc_pl_device_register_decode(struct fwc_pl_device_register *p, const uint8_t *in, size_t len,
                                  struct fwc_errinfo *ei)
{
	struct fwc_pl_device_register v;
	struct rd r;
	unsigned k;
	int rc;

	if (p == NULL)
		return FWC_ERR_ARG;
	memset(&v, 0, sizeof(v));
	if ((rc = rd_open(&r, in, len, ei)) < 0)
		return rc;
	while ((rc = rd_next(&r, &k)) > 0) {
		size_t off = r.dec.pos;

		switch (k) {
		case 1:
			rc = rd_key(&r, k, &v.device);
			break;
		case 2:
			rc = rd_id(&r, k, &v.product, FWC_PL_ID_MAX);
			break;
		case 3:
			rc = rd_hwid(&r, k, &v.hwid);
			break;
		case 4:
			if ((rc = rd_groups(&r, k, &v.groups)) == FWC_OK && v.groups.n == 0)
				rc = fwc_fail(ei, off, FWC_ERR_NONCANONICAL,
				              "field 4: empty groups must be left out");
			break;
		case 5:
			rc = rd_text(&r, k, &v.region, 1, FWC_PL_REGION_MAX);
			break;
		case 6:
			if ((rc = rd_attrs(&r, k, &v.attrs)) == FWC_OK && v.attrs.n == 0)
				rc = fwc_fail(ei, off, FWC_ERR_NONCANONICAL,
				              "field 6: empty attributes must be left out");
			break;
		case 7:
			if ((rc = rd_uint(&r, &v.counter)) == FWC_OK && v.counter == 0)
				rc = fwc_fail(ei, off, FWC_ERR_NONCANONICAL,
				              "field 7: counter 0 must be left out");
			break;
		case 8:
			rc = rd_flag(&r, k, &v.update);
			break;
		case 9:
			rc = rd_flag(&r, k, &v.retire);
			break;
		default:
			rc = rd_unknown(&r, k);
		}
		if (rc < 0)
			return rc;
	}
	if (rc < 0 || (rc = rd_close(&r, 0xe, 1)) < 0)
		return rc;
	/* An update restates the device; its counter only moves with device events. */
	if (v.update && v.counter > 0)
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED,
		                "field 7 (counter) is not allowed with 8 (update)");
	if (v.retire && !v.update)
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED, "field 9 (retire) needs 8 (update)");
	*p = v;
	return FWC_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* RELEASE_REVOKE, ROLLOUT, POSTPONE                                                        */

int fwc_pl_release_revoke_encode(uint8_t *out, size_t cap, size_t *outlen,
                                 const struct fwc_pl_release_revoke *p)
{
	ENC_PROLOGUE();
	if ((rc = check_text(NULL, 0, 2, p->reason, 0, FWC_PL_REASON_MAX)) < 0)
		return rc;
	fwc_cbor_put_map(e, p->reason.len ? 2 : 1);
	put_bytes(e, 1, p->release_id, FWC_RELEASE_ID_LEN);
	if (p->reason.len)
		put_str(e, 2, p->reason);
	return enc_done(e, outlen);
}

int fwc_pl_release_revoke_decode(struct fwc_pl_release_revoke *p, const uint8_t *in, size_t len,
                                 struct fwc_errinfo *ei)
{
	struct fwc_pl_release_revoke v;
	struct rd r;
	unsigned k;
	int rc;

	if (p == NULL)
		return FWC_ERR_ARG;
	memset(&v, 0, sizeof(v));
	if ((rc = rd_open(&r, in, len, ei)) < 0)
		return rc;
	while ((rc = rd_next(&r, &k)) > 0) {
		switch (k) {
		case 1:
			rc = rd_fixed(&r, k, v.release_id, FWC_RELEASE_ID_LEN);
			break;
		case 2:
			rc = rd_text(&r, k, &v.reason, 1, FWC_PL_REASON_MAX);
			break;
		default:
			rc = rd_unknown(&r, k);
		}
		if (rc < 0)
			return rc;
	}
	if (rc < 0 || (rc = rd_close(&r, 0x2, 1)) < 0)
		return rc;
	*p = v;
	return FWC_OK;
}

int fwc_pl_rollout_encode(uint8_t *out, size_t cap, size_t *outlen, const struct fwc_pl_rollout *p)
{
	ENC_PROLOGUE();
	if ((rc = check_text(NULL, 0, 3, p->reason, 0, FWC_PL_REASON_MAX)) < 0)
		return rc;
	if (p->action < FWC_ROLLOUT_PAUSE || p->action > FWC_ROLLOUT_HALT)
		return FWC_ERR_RANGE;
	fwc_cbor_put_map(e, p->reason.len ? 3 : 2);
	put_bytes(e, 1, p->release_id, FWC_RELEASE_ID_LEN);
	put_u(e, 2, p->action);
	if (p->reason.len)
		put_str(e, 3, p->reason);
	return enc_done(e, outlen);
}

int fwc_pl_rollout_decode(struct fwc_pl_rollout *p, const uint8_t *in, size_t len,
                          struct fwc_errinfo *ei)
{
	struct fwc_pl_rollout v;
	struct rd r;
	unsigned k;
	int rc;

	if (p == NULL)
		return FWC_ERR_ARG;
	memset(&v, 0, sizeof(v));
	if ((rc = rd_open(&r, in, len, ei)) < 0)
		return rc;
	while ((rc = rd_next(&r, &k)) > 0) {
		size_t off = r.dec.pos;

		switch (k) {
		case 1:
			rc = rd_fixed(&r, k, v.release_id, FWC_RELEASE_ID_LEN);
			break;
		case 2:
			if ((rc = rd_uint_max(&r, k, &v.action, FWC_ROLLOUT_HALT)) == FWC_OK &&
			    v.action < FWC_ROLLOUT_PAUSE)
				rc = fwc_fail(ei, off, FWC_ERR_RANGE,
				              "field 2: rollout action must be 1, 2 or 3");
			break;
		case 3:
			rc = rd_text(&r, k, &v.reason, 1, FWC_PL_REASON_MAX);
			break;
		default:
			rc = rd_unknown(&r, k);
		}
		if (rc < 0)
			return rc;
	}
	if (rc < 0 || (rc = rd_close(&r, 0x6, 1)) < 0)
		return rc;
	*p = v;
	return FWC_OK;
}

int fwc_pl_postpone_encode(uint8_t *out, size_t cap, size_t *outlen,
                           const struct fwc_pl_postpone *p)
{
	ENC_PROLOGUE();
	if (!!p->has_device == !!p->has_group)
		return FWC_ERR_MALFORMED;
	if ((p->has_device && (rc = check_pubkey(NULL, 0, 1, &p->device)) < 0) ||
	    (p->has_group && (rc = check_id(NULL, 0, 5, p->group, FWC_PL_GROUP_MAX)) < 0) ||
	    (rc = check_text(NULL, 0, 4, p->reason, 0, FWC_PL_REASON_MAX)) < 0)
		return rc;
	fwc_cbor_put_map(e, p->reason.len ? 4 : 3);
	if (p->has_device)
		put_pubkey(e, 1, &p->device);
	put_bytes(e, 2, p->release_id, FWC_RELEASE_ID_LEN);
	put_u(e, 3, p->until);
	if (p->reason.len)
		put_str(e, 4, p->reason);
	if (p->has_group)
		put_str(e, 5, p->group);
	return enc_done(e, outlen);
}

int fwc_pl_postpone_decode(struct fwc_pl_postpone *p, const uint8_t *in, size_t len,
                           struct fwc_errinfo *ei)
{
	struct fwc_pl_postpone v;
	struct rd r;
	unsigned k;
	int rc;

	if (p == NULL)
		return FWC_ERR_ARG;
	memset(&v, 0, sizeof(v));
	if ((rc = rd_open(&r, in, len, ei)) < 0)
		return rc;
	while ((rc = rd_next(&r, &k)) > 0) {
		switch (k) {
		case 1:
			v.has_device = 1;
			rc = rd_key(&r, k, &v.device);
			break;
		case 2:
			rc = rd_fixed(&r, k, v.release_id, FWC_RELEASE_ID_LEN);
			break;
		case 3:
			rc = rd_uint(&r, &v.until);
			break;
		case 4:
			rc = rd_text(&r, k, &v.reason, 1, FWC_PL_REASON_MAX);
			break;
		case 5:
			v.has_group = 1;
			rc = rd_id(&r, k, &v.group, FWC_PL_GROUP_MAX);
			break;
		default:
			rc = rd_unknown(&r, k);
		}
		if (rc < 0)
			return rc;
	}
	if (rc < 0 || (rc = rd_close(&r, 0xc, 1)) < 0)
		return rc;
	if (v.has_device == v.has_group)
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED,
		                "exactly one of field 1 (device) and field 5 (group) is required");
	*p = v;
	return FWC_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* CONFIG_UPDATE                                                                             */

static int check_config_name(struct fwc_errinfo *ei, size_t off, struct fwc_cbor_str v)
{
	/* Names follow the id syntax so they are safe in URLs and file names. */
	return check_id(ei, off, 4, v, FWC_PL_CONFIG_NAME_MAX);
}

int fwc_pl_config_update_encode(uint8_t *out, size_t cap, size_t *outlen,
                                const struct fwc_pl_config_update *p)
{
	ENC_PROLOGUE();
	if ((rc = check_id(NULL, 0, 1, p->product, FWC_PL_ID_MAX)) < 0 ||
	    (p->has_group && (rc = check_id(NULL, 0, 2, p->group, FWC_PL_GROUP_MAX)) < 0) ||
	    (p->has_device && (rc = check_pubkey(NULL, 0, 3, &p->device)) < 0) ||
	    (rc = check_config_name(NULL, 0, p->name)) < 0)
		return rc;
	if (p->has_group && p->has_device)
		return FWC_ERR_MALFORMED;
	if (p->has_value &&
	    (p->value.len > FWC_PL_CONFIG_VALUE_MAX || (p->value.p == NULL && p->value.len != 0)))
		return FWC_ERR_RANGE;
	fwc_cbor_put_map(e, 2u + !!p->has_group + !!p->has_device + !!p->has_value);
	put_str(e, 1, p->product);
	if (p->has_group)
		put_str(e, 2, p->group);
	if (p->has_device)
		put_pubkey(e, 3, &p->device);
	put_str(e, 4, p->name);
	if (p->has_value)
		put_bytes(e, 5, p->value.p, p->value.len);
	return enc_done(e, outlen);
}

int fwc_pl_config_update_decode(struct fwc_pl_config_update *p, const uint8_t *in, size_t len,
                                struct fwc_errinfo *ei)
{
	struct fwc_pl_config_update v;
	struct rd r;
	unsigned k;
	int rc;

	if (p == NULL)
		return FWC_ERR_ARG;
	memset(&v, 0, sizeof(v));
	if ((rc = rd_open(&r, in, len, ei)) < 0)
		return rc;
	while ((rc = rd_next(&r, &k)) > 0) {
		size_t off = r.dec.pos;

		switch (k) {
		case 1:
			rc = rd_id(&r, k, &v.product, FWC_PL_ID_MAX);
			break;
		case 2:
			v.has_group = 1;
			rc = rd_id(&r, k, &v.group, FWC_PL_GROUP_MAX);
			break;
		case 3:
			v.has_device = 1;
			if ((rc = rd_key(&r, k, &v.device)) == FWC_OK && v.has_group)
				rc = fwc_fail(ei, off, FWC_ERR_MALFORMED,
				              "fields 2 (group) and 3 (device) exclude each other");
			break;
		case 4:
			if ((rc = fwc_cbor_get_text(&r.dec, &v.name.p, &v.name.len)) == FWC_OK)
				rc = check_config_name(ei, off, v.name);
			break;
		case 5:
			v.has_value = 1;
			rc = rd_bytes(&r, k, &v.value, 0, FWC_PL_CONFIG_VALUE_MAX);
			break;
		default:
			rc = rd_unknown(&r, k);
		}
		if (rc < 0)
			return rc;
	}
	if (rc < 0 || (rc = rd_close(&r, 0x12, 1)) < 0)
		return rc;
	*p = v;
	return FWC_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* LICENCE_ISSUE, LICENCE_REVOKE                                                            */

int fwc_pl_licence_issue_encode(uint8_t *out, size_t cap, size_t *outlen,
                                const struct fwc_pl_licence_issue *p)
{
	ENC_PROLOGUE();
	if ((rc = check_id(NULL, 0, 1, p->id, FWC_PL_ID_MAX)) < 0 ||
	    (rc = check_id(NULL, 0, 2, p->product, FWC_PL_ID_MAX)) < 0 ||
	    (p->has_device && (rc = check_pubkey(NULL, 0, 3, &p->device)) < 0) ||
	    (rc = check_text(NULL, 0, 4, p->feature, 1, FWC_PL_FEATURE_MAX)) < 0)
		return rc;
	fwc_cbor_put_map(e, 5u + !!p->has_device);
	put_str(e, 1, p->id);
	put_str(e, 2, p->product);
	if (p->has_device)
		put_pubkey(e, 3, &p->device);
	put_str(e, 4, p->feature);
	put_u(e, 5, p->not_before);
	put_u(e, 6, p->not_after);
	return enc_done(e, outlen);
}

int fwc_pl_licence_issue_decode(struct fwc_pl_licence_issue *p, const uint8_t *in, size_t len,
                                struct fwc_errinfo *ei)
{
	struct fwc_pl_licence_issue v;
	struct rd r;
	unsigned k;
	int rc;

	if (p == NULL)
		return FWC_ERR_ARG;
	memset(&v, 0, sizeof(v));
	if ((rc = rd_open(&r, in, len, ei)) < 0)
		return rc;
	while ((rc = rd_next(&r, &k)) > 0) {
		switch (k) {
		case 1:
			rc = rd_id(&r, k, &v.id, FWC_PL_ID_MAX);
			break;
		case 2:
			rc = rd_id(&r, k, &v.product, FWC_PL_ID_MAX);
			break;
		case 3:
			v.has_device = 1;
			rc = rd_key(&r, k, &v.device);
			break;
		case 4:
			rc = rd_text(&r, k, &v.feature, 1, FWC_PL_FEATURE_MAX);
			break;
		case 5:
			rc = rd_uint(&r, &v.not_before);
			break;
		case 6:
			rc = rd_uint(&r, &v.not_after);
			break;
		default:
			rc = rd_unknown(&r, k);
		}
		if (rc < 0)
			return rc;
	}
	if (rc < 0 || (rc = rd_close(&r, 0x76, 1)) < 0)
		return rc;
	*p = v;
	return FWC_OK;
}

int fwc_pl_licence_revoke_encode(uint8_t *out, size_t cap, size_t *outlen,
                                 const struct fwc_pl_licence_revoke *p)
{
	ENC_PROLOGUE();
	if ((rc = check_id(NULL, 0, 1, p->id, FWC_PL_ID_MAX)) < 0 ||
	    (rc = check_id(NULL, 0, 2, p->product, FWC_PL_ID_MAX)) < 0 ||
	    (rc = check_text(NULL, 0, 3, p->reason, 0, FWC_PL_REASON_MAX)) < 0)
		return rc;
	fwc_cbor_put_map(e, p->reason.len ? 3 : 2);
	put_str(e, 1, p->id);
	put_str(e, 2, p->product);
	if (p->reason.len)
		put_str(e, 3, p->reason);
	return enc_done(e, outlen);
}

int fwc_pl_licence_revoke_decode(struct fwc_pl_licence_revoke *p, const uint8_t *in, size_t len,
                                 struct fwc_errinfo *ei)
{
	struct fwc_pl_licence_revoke v;
	struct rd r;
	unsigned k;
	int rc;

	if (p == NULL)
		return FWC_ERR_ARG;
	memset(&v, 0, sizeof(v));
	if ((rc = rd_open(&r, in, len, ei)) < 0)
		return rc;
	while ((rc = rd_next(&r, &k)) > 0) {
		switch (k) {
		case 1:
			rc = rd_id(&r, k, &v.id, FWC_PL_ID_MAX);
			break;
		case 2:
			rc = rd_id(&r, k, &v.product, FWC_PL_ID_MAX);
			break;
		case 3:
			rc = rd_text(&r, k, &v.reason, 1, FWC_PL_REASON_MAX);
			break;
		default:
			rc = rd_unknown(&r, k);
		}
		if (rc < 0)
			return rc;
	}
	if (rc < 0 || (rc = rd_close(&r, 0x6, 1)) < 0)
		return rc;
	*p = v;
	return FWC_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* VALIDATOR_SET                                                                            */

int fwc_pl_validator_set_encode(uint8_t *out, size_t cap, size_t *outlen,
                                const struct fwc_pl_validator_set *p)
{
	size_t i;

	ENC_PROLOGUE();
	if (p->n == 0 || p->n > FWC_PL_VALIDATORS_MAX)
		return FWC_ERR_RANGE;
	for (i = 0; i < p->n; i++) {
		if ((rc = check_pubkey(NULL, 0, 2, &p->v[i].key)) < 0 ||
		    (rc = check_text(NULL, 0, 2, p->v[i].name, 1, FWC_PL_NAME_MAX)) < 0)
			return rc;
		if (p->v[i].key.alg != FWC_ALG_ED25519)
			return FWC_ERR_KEY;
	}
	fwc_cbor_put_map(e, 3);
	put_u(e, 1, p->version);
	put_key(e, 2);
	fwc_cbor_put_array(e, p->n);
	for (i = 0; i < p->n; i++) {
		fwc_cbor_put_map(e, 2);
		put_pubkey(e, 1, &p->v[i].key);
		put_str(e, 2, p->v[i].name);
	}
	put_u(e, 3, p->quorum);
	return enc_done(e, outlen);
}

static int rd_validator(struct rd *outer, struct fwc_pl_validator *val)
{
	/* The entry is a nested map read by a second reader over its span, so the same
	 * key discipline (critical/ignored) applies inside it. */
	struct fwc_cbor_bytes span;
	struct rd r;
	unsigned k;
	size_t base = outer->dec.pos;
	int rc;

	if ((rc = rd_item(outer, &span)) < 0)
		return rc;
	if ((rc = rd_open(&r, span.p, span.len, NULL)) < 0)
		return fwc_fail(outer->ei, base, rc, "field 2: validator entry is not a map");
	memset(val, 0, sizeof(*val));
	while ((rc = rd_next(&r, &k)) > 0) {
		switch (k) {
		case 1:
			rc = rd_key(&r, k, &val->key);
			break;
		case 2:
			rc = rd_text(&r, k, &val->name, 1, FWC_PL_NAME_MAX);
			break;
		default:
			rc = rd_unknown(&r, k);
		}
		if (rc < 0)
			break;
	}
	if (rc >= 0)
		rc = rd_close(&r, 0x6, 1);
	if (rc < 0)
		return fwc_fail(outer->ei, base, rc, "field 2: bad validator entry");
	if (val->key.alg != FWC_ALG_ED25519)
		return fwc_fail(outer->ei, base, FWC_ERR_KEY,
		                "field 2: validator keys must be ed25519");
	return FWC_OK;
}

int fwc_pl_validator_set_decode(struct fwc_pl_validator_set *p, const uint8_t *in, size_t len,
                                struct fwc_errinfo *ei)
{
	struct fwc_pl_validator_set *v = p;
	struct rd r;
	unsigned k;
	int rc;
	/* The struct is large (64 entries); decode straight into *p but only after a first pass
	 * would be costly, so keep the promise "written only on success" with a local copy. */
	static const struct fwc_pl_validator_set zero;
	struct fwc_pl_validator_set tmp = zero;

	if (p == NULL)
		return FWC_ERR_ARG;
	v = &tmp;
	if ((rc = rd_open(&r, in, len, ei)) < 0)
		return rc;
	while ((rc = rd_next(&r, &k)) > 0) {
		size_t off = r.dec.pos;
		uint64_t n, i;

		switch (k) {
		case 1:
			rc = rd_uint(&r, &v->version);
			break;
		case 2:
			if ((rc = fwc_cbor_get_array(&r.dec, &n)) < 0)
				break;
			if (n == 0 || n > FWC_PL_VALIDATORS_MAX) {
				rc = fwc_fail(ei, off, FWC_ERR_RANGE,
				              "field 2: %llu validators, want 1..%d",
				              (unsigned long long)n, FWC_PL_VALIDATORS_MAX);
				break;
			}
			for (i = 0; i < n && rc == FWC_OK; i++)
				rc = rd_validator(&r, &v->v[i]);
			v->n = (size_t)n;
			break;
		case 3:
			rc = rd_uint(&r, &v->quorum);
			break;
		default:
			rc = rd_unknown(&r, k);
		}
		if (rc < 0)
			return rc;
	}
	if (rc < 0 || (rc = rd_close(&r, 0xe, 1)) < 0)
		return rc;
	*p = tmp;
	return FWC_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Device event                                                                             */

static int event_body_encode(struct fwc_cbor_enc *e, const struct fwc_event *ev)
{
	int rc;

	if ((rc = check_pubkey(NULL, 0, 1, &ev->device)) < 0 ||
	    (rc = check_text(NULL, 0, 7, ev->detail, 0, FWC_PL_REASON_MAX)) < 0)
		return rc;
	if (ev->seq == 0 || ev->kind == 0 ||
	    (ev->kind > FWC_EVENT_POSTPONED && ev->kind < FWC_EVENT_VENDOR_MIN))
		return FWC_ERR_RANGE;
	fwc_cbor_put_map(e, 4u + !!ev->has_release + !!ev->has_counter + (ev->detail.len > 0));
	put_pubkey(e, 1, &ev->device);
	put_u(e, 2, ev->seq);
	put_u(e, 3, ev->time);
	put_u(e, 4, ev->kind);
	if (ev->has_release)
		put_bytes(e, 5, ev->release_id, FWC_RELEASE_ID_LEN);
	if (ev->has_counter)
		put_u(e, 6, ev->counter);
	if (ev->detail.len > 0)
		put_str(e, 7, ev->detail);
	return FWC_OK;
}

int fwc_event_body_encode(uint8_t *out, size_t cap, size_t *outlen, const struct fwc_event *ev)
{
	struct fwc_cbor_enc e;
	int rc;

	if (ev == NULL || outlen == NULL || (out == NULL && cap != 0))
		return FWC_ERR_ARG;
	fwc_cbor_enc_init(&e, out, cap);
	if ((rc = event_body_encode(&e, ev)) < 0)
		return rc;
	return enc_done(&e, outlen);
}

int fwc_event_encode(uint8_t *out, size_t cap, size_t *outlen, const uint8_t *body, size_t body_len,
                     const uint8_t sig[FWC_SIG_LEN])
{
	struct fwc_cbor_enc e;

	if (body == NULL || sig == NULL || outlen == NULL || (out == NULL && cap != 0))
		return FWC_ERR_ARG;
	fwc_cbor_enc_init(&e, out, cap);
	fwc_cbor_put_map(&e, 2);
	put_key(&e, 1);
	fwc_cbor_put_raw(&e, body, body_len);
	put_bytes(&e, 2, sig, FWC_SIG_LEN);
	return enc_done(&e, outlen);
}

int fwc_event_sign(uint8_t *out, size_t cap, size_t *outlen, const struct fwc_event *ev,
                   const struct fwc_seckey *sk)
{
	uint8_t body[512], digest[FWC_SHA256_LEN], sig[FWC_SIG_LEN];
	struct fwc_pubkey pub;
	size_t blen;
	int rc;

	if (ev == NULL || sk == NULL || outlen == NULL || (out == NULL && cap != 0))
		return FWC_ERR_ARG;
	if ((rc = fwc_key_public(&pub, sk)) < 0)
		return rc;
	if (!fwc_pubkey_equal(&pub, &ev->device))
		return FWC_ERR_KEY;
	if ((rc = fwc_event_body_encode(body, sizeof(body), &blen, ev)) < 0)
		return rc;
	if ((rc = fwc_tagged_hash(digest, FWC_TAG_EVENT, body, blen)) < 0 ||
	    (rc = fwc_sign(sig, sk, digest, sizeof(digest))) < 0)
		return rc;
	return fwc_event_encode(out, cap, outlen, body, blen, sig);
}

/* known (optional): a key already checked by the caller; a device key with the same bytes is
 * taken as it is, without checking its curve point again. */
static int event_body_decode(struct fwc_event *v, const uint8_t *in, size_t len, size_t base,
                             const struct fwc_pubkey *known, struct fwc_errinfo *ei)
{
	uint8_t kb[FWC_PUBKEY_BIN_LEN];
	struct rd r;
	unsigned k;
	int rc;

	if (known != NULL && fwc_pubkey_to_bin(kb, known) != FWC_OK)
		known = NULL;
	if ((rc = rd_open(&r, in, len, NULL)) < 0)
		goto fail;
	while ((rc = rd_next(&r, &k)) > 0) {
		const uint8_t *kp;
		size_t kn;

		switch (k) {
		case 1:
			if (known == NULL) {
				rc = rd_key(&r, k, &v->device);
			} else if ((rc = fwc_cbor_get_bytes(&r.dec, &kp, &kn)) == FWC_OK) {
				if (kn == FWC_PUBKEY_BIN_LEN && memcmp(kp, kb, kn) == 0)
					v->device = *known;
				else if (fwc_pubkey_from_bin(&v->device, kp, kn, NULL) != FWC_OK)
					rc = FWC_ERR_KEY;
			}
			break;
		case 2:
			rc = rd_uint(&r, &v->seq);
			break;
		case 3:
			rc = rd_uint(&r, &v->time);
			break;
		case 4:
			rc = rd_uint(&r, &v->kind);
			break;
		case 5:
			v->has_release = 1;
			rc = rd_fixed(&r, k, v->release_id, FWC_RELEASE_ID_LEN);
			break;
		case 6:
			v->has_counter = 1;
			rc = rd_uint(&r, &v->counter);
			break;
		case 7:
			rc = rd_text(&r, k, &v->detail, 1, FWC_PL_REASON_MAX);
			break;
		default:
			rc = rd_unknown(&r, k);
		}
		if (rc < 0)
			goto fail;
	}
	if (rc < 0 || (rc = rd_close(&r, 0x1e, 1)) < 0)
		goto fail;
	if (v->seq == 0)
		return fwc_fail(ei, base, FWC_ERR_RANGE, "event: sequence number must be >= 1");
	if (v->kind == 0 || (v->kind > FWC_EVENT_POSTPONED && v->kind < FWC_EVENT_VENDOR_MIN))
		return fwc_fail(ei, base, FWC_ERR_RANGE, "event: kind %llu is not defined",
		                (unsigned long long)v->kind);
	return FWC_OK;
fail:
	return fwc_fail(ei, base, rc, "event body: %s", fwc_strerror(rc));
}

int fwc_event_decode(struct fwc_event *ev, const uint8_t *in, size_t len, struct fwc_errinfo *ei)
{
	struct fwc_event v;
	struct rd r;
	unsigned k;
	int rc;

	if (ev == NULL)
		return FWC_ERR_ARG;
	memset(&v, 0, sizeof(v));
	if ((rc = rd_open(&r, in, len, ei)) < 0)
		return rc;
	while ((rc = rd_next(&r, &k)) > 0) {
		size_t off = r.dec.pos;

		switch (k) {
		case 1:
			if ((rc = rd_item(&r, &v.body)) == FWC_OK)
				rc = event_body_decode(&v, v.body.p, v.body.len, off, NULL, ei);
			break;
		case 2:
			rc = rd_fixed(&r, k, v.sig, FWC_SIG_LEN);
			break;
		default:
			rc = rd_unknown(&r, k);
		}
		if (rc < 0)
			return rc;
	}
	if (rc < 0 || (rc = rd_close(&r, 0x6, 1)) < 0)
		return rc;
	*ev = v;
	return FWC_OK;
}

int fwc_event_body_decode(struct fwc_event *ev, const uint8_t *in, size_t len,
                          struct fwc_errinfo *ei)
{
	return fwc_event_body_decode_known(ev, in, len, NULL, ei);
}

int fwc_event_body_decode_known(struct fwc_event *ev, const uint8_t *in, size_t len,
                                const struct fwc_pubkey *known, struct fwc_errinfo *ei)
{
	struct fwc_event v;
	int rc;

	if (ev == NULL || (in == NULL && len != 0))
		return FWC_ERR_ARG;
	memset(&v, 0, sizeof(v));
	if ((rc = event_body_decode(&v, in, len, 0, known, ei)) < 0)
		return rc;
	v.body.p = in;
	v.body.len = len;
	*ev = v;
	return FWC_OK;
}

int fwc_event_verify(const struct fwc_event *ev)
{
	uint8_t digest[FWC_SHA256_LEN];
	int rc;

	if (ev == NULL || ev->body.p == NULL)
		return FWC_ERR_ARG;
	if ((rc = fwc_tagged_hash(digest, FWC_TAG_EVENT, ev->body.p, ev->body.len)) < 0)
		return rc;
	return fwc_verify(&ev->device, ev->sig, digest, sizeof(digest)) == FWC_OK ? FWC_OK
	                                                                          : FWC_ERR_BADSIG;
}

/* ---------------------------------------------------------------------------------------- */
/* Key-set rotation statement                                                               */

static int rotation_body_put(struct fwc_cbor_enc *e, const struct fwc_rotation *rot)
{
	int rc;

	if ((rc = check_id(NULL, 0, 1, rot->product, FWC_PL_ID_MAX)) < 0 ||
	    (rc = check_keyset(NULL, 0, 4, rot->keyset)) < 0)
		return rc;
	if (rot->set != FWC_ROTATE_ROOT && rot->set != FWC_ROTATE_RELEASE)
		return FWC_ERR_RANGE;
	if (rot->version < 1)
		return FWC_ERR_RANGE;
	fwc_cbor_put_map(e, 4);
	put_str(e, 1, rot->product);
	put_u(e, 2, rot->set);
	put_u(e, 3, rot->version);
	put_key(e, 4);
	fwc_cbor_put_raw(e, rot->keyset.p, rot->keyset.len);
	return FWC_OK;
}

int fwc_rotation_body_encode(uint8_t *out, size_t cap, size_t *outlen,
                             const struct fwc_rotation *rot)
{
	struct fwc_cbor_enc e;
	int rc;

	if (rot == NULL || outlen == NULL || (out == NULL && cap != 0))
		return FWC_ERR_ARG;
	fwc_cbor_enc_init(&e, out, cap);
	if ((rc = rotation_body_put(&e, rot)) < 0)
		return rc;
	return enc_done(&e, outlen);
}

int fwc_rotation_digest(uint8_t out[32], const struct fwc_rotation *rot)
{
	/* A key set is at most FWC_KEYSET_ENC_MAX bytes and the rest of a body is small. */
	uint8_t buf[FWC_KEYSET_ENC_MAX + 128];
	struct fwc_cbor_enc e;
	size_t n;
	int rc;

	if (out == NULL || rot == NULL)
		return FWC_ERR_ARG;
	/* A decoded statement already carries the exact signed bytes. */
	if (rot->body.p != NULL)
		return fwc_tagged_hash(out, FWC_TAG_ROTATION, rot->body.p, rot->body.len);
	fwc_cbor_enc_init(&e, buf, sizeof(buf));
	if ((rc = rotation_body_put(&e, rot)) < 0)
		return rc;
	if ((rc = fwc_cbor_enc_finish(&e, &n)) < 0)
		return rc == FWC_ERR_BUFSIZE ? FWC_ERR_TOO_LARGE : rc;
	return fwc_tagged_hash(out, FWC_TAG_ROTATION, buf, n);
}

static int sig_cmp(const struct fwc_keyset_sig *a, const struct fwc_keyset_sig *b)
{
	return memcmp(a->pubkey, b->pubkey, FWC_PUBKEY_BIN_LEN);
}

int fwc_rotation_encode(uint8_t *out, size_t cap, size_t *outlen, const struct fwc_rotation *rot,
                        const struct fwc_keyset_sig *sigs, size_t n_sigs)
{
	const struct fwc_keyset_sig *order[FWC_PL_SIGS_MAX];
	struct fwc_cbor_enc e;
	size_t i, j;
	int rc;

	if (rot == NULL || outlen == NULL || (out == NULL && cap != 0) ||
	    (sigs == NULL && n_sigs != 0))
		return FWC_ERR_ARG;
	if (n_sigs == 0 || n_sigs > FWC_PL_SIGS_MAX)
		return FWC_ERR_RANGE;
	for (i = 0; i < n_sigs; i++) {
		struct fwc_pubkey pk;

		if (sigs[i].pubkey == NULL || sigs[i].sig == NULL)
			return FWC_ERR_ARG;
		if (fwc_pubkey_from_bin(&pk, sigs[i].pubkey, FWC_PUBKEY_BIN_LEN, NULL) != FWC_OK)
			return FWC_ERR_KEY;
		/* Insertion sort by binary key; at most 16 entries. */
		for (j = i; j > 0 && sig_cmp(order[j - 1], &sigs[i]) > 0; j--)
			order[j] = order[j - 1];
		order[j] = &sigs[i];
	}
	for (i = 1; i < n_sigs; i++)
		if (sig_cmp(order[i - 1], order[i]) == 0)
			return FWC_ERR_DUPLICATE;
	fwc_cbor_enc_init(&e, out, cap);
	fwc_cbor_put_map(&e, 2);
	put_key(&e, 1);
	if ((rc = rotation_body_put(&e, rot)) < 0)
		return rc;
	put_key(&e, 2);
	fwc_cbor_put_array(&e, n_sigs);
	for (i = 0; i < n_sigs; i++) {
		fwc_cbor_put_map(&e, 2);
		put_bytes(&e, 1, order[i]->pubkey, FWC_PUBKEY_BIN_LEN);
		put_bytes(&e, 2, order[i]->sig, FWC_SIG_LEN);
	}
	return enc_done(&e, outlen);
}

static int rotation_body_decode(struct fwc_rotation *v, struct fwc_errinfo *ei, size_t base)
{
	struct fwc_errinfo inner;
	struct rd r;
	unsigned k;
	int rc;

	if ((rc = rd_open(&r, v->body.p, v->body.len, &inner)) < 0)
		goto fail;
	while ((rc = rd_next(&r, &k)) > 0) {
		size_t off = r.dec.pos;

		switch (k) {
		case 1:
			rc = rd_id(&r, k, &v->product, FWC_PL_ID_MAX);
			break;
		case 2:
			rc = rd_uint_max(&r, k, &v->set, FWC_ROTATE_RELEASE);
			break;
		case 3:
			rc = rd_uint(&r, &v->version);
			break;
		case 4:
			if ((rc = rd_item(&r, &v->keyset)) == FWC_OK)
				rc = check_keyset(&inner, off, k, v->keyset);
			break;
		default:
			rc = rd_unknown(&r, k);
		}
		if (rc < 0)
			goto fail;
	}
	if (rc < 0 || (rc = rd_close(&r, 0x1e, 1)) < 0)
		goto fail;
	if (v->set < FWC_ROTATE_ROOT)
		return fwc_fail(ei, base, FWC_ERR_RANGE,
		                "statement: set must be 1 (root) or 2 (release)");
	if (v->version < 1)
		return fwc_fail(ei, base, FWC_ERR_RANGE, "statement: version must be >= 1");
	return FWC_OK;
fail:
	return fwc_fail(ei, base + inner.offset, rc, "statement body: %s", inner.msg);
}

static int rotation_sigs_decode(struct rd *outer, struct fwc_rotation *v)
{
	struct fwc_errinfo *ei = outer->ei;
	size_t base = outer->dec.pos;
	uint64_t n, i;
	int rc;

	if ((rc = fwc_cbor_get_array(&outer->dec, &n)) < 0)
		return rc;
	if (n == 0 || n > FWC_PL_SIGS_MAX)
		return fwc_fail(ei, base, FWC_ERR_RANGE, "statement: %llu signatures, want 1..%d",
		                (unsigned long long)n, FWC_PL_SIGS_MAX);
	for (i = 0; i < n; i++) {
		size_t off = outer->dec.pos;
		struct fwc_cbor_bytes pk = {0}, sig = {0};
		uint64_t pairs;
		unsigned k = 0;
		struct fwc_pubkey key;

		/* {1: key, 2: signature}: both required, nothing else (the entry is not
		 * extensible: a signature is a signature). */
		if ((rc = fwc_cbor_get_map(&outer->dec, &pairs)) < 0)
			return rc;
		if (pairs != 2)
			return fwc_fail(ei, off, FWC_ERR_MALFORMED,
			                "statement: signature %llu must be {1: key, 2: signature}",
			                (unsigned long long)i);
		if ((rc = fwc_cbor_get_uint(&outer->dec, &pairs)) < 0)
			return rc;
		k = (unsigned)pairs;
		if (k != 1 ||
		    (rc = rd_bytes(outer, 1, &pk, FWC_PUBKEY_BIN_LEN, FWC_PUBKEY_BIN_LEN)) < 0)
			return k != 1
			           ? fwc_fail(
			                 ei, off, FWC_ERR_MALFORMED,
			                 "statement: signature %llu must be {1: key, 2: signature}",
			                 (unsigned long long)i)
			           : rc;
		if ((rc = fwc_cbor_get_uint(&outer->dec, &pairs)) < 0)
			return rc;
		if (pairs != 2 || (rc = rd_bytes(outer, 2, &sig, FWC_SIG_LEN, FWC_SIG_LEN)) < 0)
			return pairs != 2
			           ? fwc_fail(
			                 ei, off, FWC_ERR_MALFORMED,
			                 "statement: signature %llu must be {1: key, 2: signature}",
			                 (unsigned long long)i)
			           : rc;
		if (fwc_pubkey_from_bin(&key, pk.p, pk.len, NULL) != FWC_OK)
			return fwc_fail(ei, off, FWC_ERR_KEY,
			                "statement: signature %llu: invalid key",
			                (unsigned long long)i);
		v->sigs[i].pubkey = pk.p;
		v->sigs[i].sig = sig.p;
		if (i > 0 && sig_cmp(&v->sigs[i - 1], &v->sigs[i]) >= 0)
			return fwc_fail(ei, off,
			                sig_cmp(&v->sigs[i - 1], &v->sigs[i]) == 0
			                    ? FWC_ERR_DUPLICATE
			                    : FWC_ERR_UNSORTED,
			                "statement: signatures must be sorted by key, one per key");
	}
	v->n_sigs = (size_t)n;
	return FWC_OK;
}

int fwc_rotation_decode(struct fwc_rotation *rot, const uint8_t *in, size_t len,
                        struct fwc_errinfo *ei)
{
	static const struct fwc_rotation zero;
	struct fwc_rotation v = zero;
	struct rd r;
	unsigned k;
	int rc;

	if (rot == NULL)
		return FWC_ERR_ARG;
	if ((rc = rd_open(&r, in, len, ei)) < 0)
		return rc;
	while ((rc = rd_next(&r, &k)) > 0) {
		size_t off = r.dec.pos;

		switch (k) {
		case 1:
			if ((rc = rd_item(&r, &v.body)) == FWC_OK)
				rc = rotation_body_decode(&v, ei, off);
			break;
		case 2:
			rc = rotation_sigs_decode(&r, &v);
			break;
		default:
			rc = rd_unknown(&r, k);
		}
		if (rc < 0)
			return rc;
	}
	if (rc < 0 || (rc = rd_close(&r, 0x6, 1)) < 0)
		return rc;
	*rot = v;
	return FWC_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Dispatch by transaction type                                                             */

int fwc_payload_decode(struct fwc_payload *pl, uint32_t type, const uint8_t *in, size_t len,
                       struct fwc_errinfo *ei)
{
	struct fwc_payload v;
	int rc;

	if (pl == NULL)
		return FWC_ERR_ARG;
	memset(&v, 0, sizeof(v));
	v.type = type;
	switch (type) {
	case FWC_TX_ORG_REGISTER:
		rc = fwc_pl_org_register_decode(&v.u.org_register, in, len, ei);
		break;
	case FWC_TX_MEMBER_ADD:
		rc = fwc_pl_member_add_decode(&v.u.member_add, in, len, ei);
		break;
	case FWC_TX_MEMBER_REMOVE:
		rc = fwc_pl_member_remove_decode(&v.u.member_remove, in, len, ei);
		break;
	case FWC_TX_KEYSET_REGISTER:
	case FWC_TX_KEYSET_ROTATE:
		rc = fwc_pl_keyset_statement_decode(&v.u.keyset_statement, in, len, ei);
		break;
	case FWC_TX_KEY_REVOKE:
		rc = fwc_pl_key_revoke_decode(&v.u.key_revoke, in, len, ei);
		break;
	case FWC_TX_PRODUCT_REGISTER:
		rc = fwc_pl_product_register_decode(&v.u.product_register, in, len, ei);
		break;
	case FWC_TX_DEVICE_REGISTER:
		rc = fwc_pl_device_register_decode(&v.u.device_register, in, len, ei);
		break;
	case FWC_TX_RELEASE:
		rc = fwc_pl_release_decode(&v.u.release, in, len, ei);
		break;
	case FWC_TX_RELEASE_REVOKE:
		rc = fwc_pl_release_revoke_decode(&v.u.release_revoke, in, len, ei);
		break;
	case FWC_TX_DEVICE_EVENT:
		rc = fwc_pl_device_event_decode(&v.u.device_event, in, len, ei);
		break;
	case FWC_TX_CONFIG_UPDATE:
		rc = fwc_pl_config_update_decode(&v.u.config_update, in, len, ei);
		break;
	case FWC_TX_LICENCE_ISSUE:
		rc = fwc_pl_licence_issue_decode(&v.u.licence_issue, in, len, ei);
		break;
	case FWC_TX_LICENCE_REVOKE:
		rc = fwc_pl_licence_revoke_decode(&v.u.licence_revoke, in, len, ei);
		break;
	case FWC_TX_ROLLOUT_CONTROL:
		rc = fwc_pl_rollout_decode(&v.u.rollout, in, len, ei);
		break;
	case FWC_TX_POSTPONE:
		rc = fwc_pl_postpone_decode(&v.u.postpone, in, len, ei);
		break;
	case FWC_TX_VALIDATOR_SET:
		rc = fwc_pl_validator_set_decode(&v.u.validator_set, in, len, ei);
		break;
	default:
		return fwc_fail(ei, 0, FWC_ERR_UNSUPPORTED, "unknown transaction type %u",
		                (unsigned)type);
	}
	if (rc < 0)
		return rc;
	*pl = v;
	return FWC_OK;
}
