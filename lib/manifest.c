/* Release manifests: body codec, the signed-manifest envelope, signing and threshold checks.
 *
 * The body is a CBOR map with small unsigned integer keys (docs/formats/manifest.md). The
 * decoder reads it in one pass on top of the strict CBOR decoder, which already guarantees
 * canonical form, sorted unique keys and bounded sizes; this file adds the field rules (types,
 * bounds, required fields) and reports each problem with the offset of the offending value.
 * Forward compatibility is decided by the key alone: unknown keys below 64 are critical and
 * refused, keys from 64 up are extensions that older readers skip. Because map keys are sorted
 * and every known key is below 64, extensions always form one contiguous run at the end of the
 * map, so they are kept as a single (pointer, length) span and re-encoded verbatim — decoding
 * and re-encoding any accepted body gives back the same bytes, extensions included.
 *
 * The signed envelope carries the body as a byte string, so signers and verifiers hash exactly
 * the bytes that were signed, never a re-encoding of them. */
#include "fwchain/manifest.h"

#include "fwchain/sha256.h"

#include <string.h>

enum {
	K_FORMAT = 0,
	K_PRODUCT = 1,
	K_VERSION = 2,
	K_COUNTER = 3,
	K_CHANNEL = 4,
	K_CID = 5,
	K_SIZE = 6,
	K_SHA256 = 7,
	K_HW = 8,
	K_CREATED = 9,
	K_ROLLOUT = 10,
	K_ENCRYPTION = 11,
	K_LICENCE = 12,
	K_METADATA = 13,
	K_COUNT = 14,
	K_REQUIRED = 10, /* keys 0..9 must be present */
};

static const char *const field_names[K_COUNT] = {
    "format", "product",  "version", "counter", "channel",    "cid",     "size",
    "sha256", "hardware", "created", "rollout", "encryption", "licence", "metadata",
};

enum { R_BPS = 0, R_GROUPS = 1, R_REGIONS = 2, R_NOT_BEFORE = 3 };
enum { E_ALG = 0, E_KEYID = 1 };
enum { S_BODY = 1, S_SIGS = 2 };

/* ---------------------------------------------------------------------------------------- */
/* Field checks shared by encoder and decoder                                               */

int fwc_manifest_check_cid(const uint8_t *cid, size_t len, struct fwc_errinfo *ei)
{
	const uint8_t *mh = cid;
	size_t mhlen = len;

	if (cid == NULL && len != 0)
		return FWC_ERR_ARG;
	if (len == 34 && cid[0] == 0x12) {
		/* CIDv0: the bare sha2-256 multihash */
	} else if (len == 36 && cid[0] == 0x01) {
		if (cid[1] != 0x55 && cid[1] != 0x70)
			return fwc_fail(ei, 1, FWC_ERR_MALFORMED,
			                "cid: codec 0x%02x is neither raw (0x55) nor dag-pb (0x70)",
			                cid[1]);
		mh = cid + 2;
		mhlen = len - 2;
	} else {
		return fwc_fail(
		    ei, 0, FWC_ERR_MALFORMED,
		    "cid: %zu bytes is neither a CIDv0 (34) nor a CIDv1 (36) of sha2-256", len);
	}
	if (mhlen != 34 || mh[0] != 0x12 || mh[1] != 0x20)
		return fwc_fail(ei, (size_t)(mh - cid), FWC_ERR_MALFORMED,
		                "cid: multihash is not sha2-256 with a 32-byte digest");
	return FWC_OK;
}

static int check_text(const struct fwc_cbor_str *s, size_t min, size_t max, const char *what,
                      struct fwc_errinfo *ei)
{
	if (s->len > max)
		return fwc_fail(ei, 0, FWC_ERR_TOO_LARGE, "manifest: %s is %zu bytes (max %zu)",
		                what, s->len, max);
	if (s->len < min)
		return fwc_fail(ei, 0, FWC_ERR_RANGE, "manifest: %s is empty", what);
	if (s->p == NULL && s->len != 0)
		return FWC_ERR_ARG;
	if (!fwc_utf8_valid((const uint8_t *)s->p, s->len, NULL))
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED, "manifest: %s is not UTF-8", what);
	return FWC_OK;
}

static int check_list(const struct fwc_cbor_str *l, size_t n, size_t maxn, size_t maxlen,
                      const char *what, struct fwc_errinfo *ei)
{
	int rc;

	if (n == 0 || n > maxn)
		return fwc_fail(ei, 0, FWC_ERR_RANGE, "manifest: %zu %s (allowed 1..%zu)", n, what,
		                maxn);
	for (size_t i = 0; i < n; i++) {
		if ((rc = check_text(&l[i], 1, maxlen, what, ei)) != FWC_OK)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (l[j].len == l[i].len && memcmp(l[j].p, l[i].p, l[i].len) == 0)
				return fwc_fail(ei, 0, FWC_ERR_DUPLICATE,
				                "manifest: %s %zu repeats entry %zu", what, i, j);
	}
	return FWC_OK;
}

static int check_fields(const struct fwc_manifest *m, struct fwc_errinfo *ei)
{
	int rc;

	if (m->format != FWC_MANIFEST_VERSION)
		return fwc_fail(ei, 0, FWC_ERR_UNSUPPORTED, "manifest: format %llu",
		                (unsigned long long)m->format);
	if ((rc = check_text(&m->product, 1, FWC_MANIFEST_ID_MAX, "product", ei)) ||
	    (rc = check_text(&m->version, 1, FWC_MANIFEST_ID_MAX, "version", ei)) ||
	    (rc = check_text(&m->channel, 1, FWC_MANIFEST_CHANNEL_MAX, "channel", ei)))
		return rc;
	if (m->cid.p == NULL || (rc = fwc_manifest_check_cid(m->cid.p, m->cid.len, ei)))
		return m->cid.p == NULL ? FWC_ERR_ARG : rc;
	if (m->size == 0)
		return fwc_fail(ei, 0, FWC_ERR_RANGE, "manifest: size is 0");
	if ((rc = check_list(m->hw, m->n_hw, FWC_MANIFEST_HW_MAX, FWC_MANIFEST_ID_MAX,
	                     "hardware ids", ei)))
		return rc;
	if (m->has_rollout) {
		const struct fwc_manifest_rollout *r = &m->rollout;

		if (!r->has_bps && !r->has_not_before && r->n_groups == 0 && r->n_regions == 0)
			return fwc_fail(ei, 0, FWC_ERR_RANGE,
			                "manifest: empty rollout policy (omit it instead)");
		if (r->has_bps && r->bps > FWC_MANIFEST_BPS_MAX)
			return fwc_fail(ei, 0, FWC_ERR_RANGE, "manifest: rollout %u bps > 10000",
			                r->bps);
		if (r->n_groups && (rc = check_list(r->groups, r->n_groups, FWC_MANIFEST_LIST_MAX,
		                                    FWC_MANIFEST_NAME_MAX, "groups", ei)))
			return rc;
		if (r->n_regions &&
		    (rc = check_list(r->regions, r->n_regions, FWC_MANIFEST_LIST_MAX,
		                     FWC_MANIFEST_NAME_MAX, "regions", ei)))
			return rc;
	}
	if (m->has_encryption) {
		const struct fwc_manifest_encryption *e = &m->encryption;

		if ((rc =
		         check_text(&e->alg, 1, FWC_MANIFEST_NAME_MAX, "encryption algorithm", ei)))
			return rc;
		if (e->key_id.len == 0 || e->key_id.len > FWC_MANIFEST_KEYID_MAX ||
		    e->key_id.p == NULL)
			return fwc_fail(ei, 0, FWC_ERR_RANGE,
			                "manifest: encryption key id is %zu bytes (allowed 1..32)",
			                e->key_id.len);
	}
	if (m->has_licence && (rc = check_text(&m->licence, 1, FWC_MANIFEST_ID_MAX, "licence", ei)))
		return rc;
	if (m->has_metadata && (m->metadata.len > FWC_MANIFEST_META_MAX ||
	                        (m->metadata.p == NULL && m->metadata.len != 0)))
		return fwc_fail(ei, 0, FWC_ERR_TOO_LARGE,
		                "manifest: metadata is %zu bytes (max 255)", m->metadata.len);
	if ((m->n_ext != 0) != (m->ext.len != 0) || (m->ext.p == NULL && m->ext.len != 0))
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED,
		                "manifest: extension count and bytes disagree");
	return FWC_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Body encoder                                                                             */

static void put_list(struct fwc_cbor_enc *e, const struct fwc_cbor_str *l, size_t n)
{
	fwc_cbor_put_array(e, n);
	for (size_t i = 0; i < n; i++)
		fwc_cbor_put_text(e, l[i].p, l[i].len);
}

int fwc_manifest_encode(uint8_t *out, size_t outcap, size_t *outlen, const struct fwc_manifest *m,
                        struct fwc_errinfo *ei)
{
	const struct fwc_manifest_rollout *r;
	struct fwc_cbor_enc e;
	size_t len;
	int rc;

	if (m == NULL || outlen == NULL || (out == NULL && outcap != 0))
		return FWC_ERR_ARG;
	r = &m->rollout;
	if ((rc = check_fields(m, ei)) != FWC_OK)
		return rc;
	fwc_cbor_enc_init(&e, out, outcap);
	fwc_cbor_put_map(&e, (size_t)(K_REQUIRED + m->has_rollout + m->has_encryption +
	                              m->has_licence + m->has_metadata) +
	                         m->n_ext);
	fwc_cbor_put_uint(&e, K_FORMAT);
	fwc_cbor_put_uint(&e, m->format);
	fwc_cbor_put_uint(&e, K_PRODUCT);
	fwc_cbor_put_text(&e, m->product.p, m->product.len);
	fwc_cbor_put_uint(&e, K_VERSION);
	fwc_cbor_put_text(&e, m->version.p, m->version.len);
	fwc_cbor_put_uint(&e, K_COUNTER);
	fwc_cbor_put_uint(&e, m->counter);
	fwc_cbor_put_uint(&e, K_CHANNEL);
	fwc_cbor_put_text(&e, m->channel.p, m->channel.len);
	fwc_cbor_put_uint(&e, K_CID);
	fwc_cbor_put_bytes(&e, m->cid.p, m->cid.len);
	fwc_cbor_put_uint(&e, K_SIZE);
	fwc_cbor_put_uint(&e, m->size);
	fwc_cbor_put_uint(&e, K_SHA256);
	fwc_cbor_put_bytes(&e, m->sha256, 32);
	fwc_cbor_put_uint(&e, K_HW);
	put_list(&e, m->hw, m->n_hw);
	fwc_cbor_put_uint(&e, K_CREATED);
	fwc_cbor_put_uint(&e, m->created);
	if (m->has_rollout) {
		fwc_cbor_put_uint(&e, K_ROLLOUT);
		fwc_cbor_put_map(&e, (uint64_t)r->has_bps + (r->n_groups != 0) +
		                         (r->n_regions != 0) + r->has_not_before);
		if (r->has_bps) {
			fwc_cbor_put_uint(&e, R_BPS);
			fwc_cbor_put_uint(&e, r->bps);
		}
		if (r->n_groups) {
			fwc_cbor_put_uint(&e, R_GROUPS);
			put_list(&e, r->groups, r->n_groups);
		}
		if (r->n_regions) {
			fwc_cbor_put_uint(&e, R_REGIONS);
			put_list(&e, r->regions, r->n_regions);
		}
		if (r->has_not_before) {
			fwc_cbor_put_uint(&e, R_NOT_BEFORE);
			fwc_cbor_put_uint(&e, r->not_before);
		}
	}
	if (m->has_encryption) {
		fwc_cbor_put_uint(&e, K_ENCRYPTION);
		fwc_cbor_put_map(&e, 2);
		fwc_cbor_put_uint(&e, E_ALG);
		fwc_cbor_put_text(&e, m->encryption.alg.p, m->encryption.alg.len);
		fwc_cbor_put_uint(&e, E_KEYID);
		fwc_cbor_put_bytes(&e, m->encryption.key_id.p, m->encryption.key_id.len);
	}
	if (m->has_licence) {
		fwc_cbor_put_uint(&e, K_LICENCE);
		fwc_cbor_put_text(&e, m->licence.p, m->licence.len);
	}
	if (m->has_metadata) {
		fwc_cbor_put_uint(&e, K_METADATA);
		fwc_cbor_put_bytes(&e, m->metadata.p, m->metadata.len);
	}
	fwc_cbor_put_raw(&e, m->ext.p, m->ext.len);
	rc = fwc_cbor_enc_finish(&e, &len);
	*outlen = len;
	if (rc != FWC_OK)
		return rc;
	if (len > FWC_MANIFEST_BODY_MAX)
		return fwc_fail(ei, 0, FWC_ERR_TOO_LARGE, "manifest: body of %zu bytes (max %d)",
		                len, FWC_MANIFEST_BODY_MAX);
	if (out != NULL) {
		/* Extensions are caller bytes the field checks cannot vouch for: decode the result
		 * so the encoder never emits a body the decoder would refuse. */
		struct fwc_manifest check;

		rc = fwc_manifest_decode(&check, out, len, ei);
	}
	return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Body decoder                                                                             */

static int get_text(struct fwc_cbor_dec *d, struct fwc_cbor_str *s, size_t max, const char *what,
                    struct fwc_errinfo *ei)
{
	size_t off = d->pos;
	int rc = fwc_cbor_get_text(d, &s->p, &s->len);

	if (rc != FWC_OK)
		return rc;
	if (s->len > max)
		return fwc_fail(ei, off, FWC_ERR_TOO_LARGE, "manifest: %s is %zu bytes (max %zu)",
		                what, s->len, max);
	if (s->len == 0)
		return fwc_fail(ei, off, FWC_ERR_RANGE, "manifest: %s is empty", what);
	return FWC_OK;
}

static int get_list(struct fwc_cbor_dec *d, struct fwc_cbor_str *l, size_t *n, size_t maxn,
                    size_t maxlen, const char *what, struct fwc_errinfo *ei)
{
	size_t off = d->pos;
	uint64_t cnt;
	int rc = fwc_cbor_get_array(d, &cnt);

	if (rc != FWC_OK)
		return rc;
	if (cnt == 0 || cnt > maxn)
		return fwc_fail(ei, off, FWC_ERR_RANGE, "manifest: %llu %s (allowed 1..%zu)",
		                (unsigned long long)cnt, what, maxn);
	for (size_t i = 0; i < cnt; i++) {
		off = d->pos;
		if ((rc = get_text(d, &l[i], maxlen, what, ei)) != FWC_OK)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (l[j].len == l[i].len && memcmp(l[j].p, l[i].p, l[i].len) == 0)
				return fwc_fail(ei, off, FWC_ERR_DUPLICATE,
				                "manifest: %s %zu repeats entry %zu", what, i, j);
	}
	*n = (size_t)cnt;
	return FWC_OK;
}

static int get_rollout(struct fwc_cbor_dec *d, struct fwc_manifest_rollout *r,
                       struct fwc_errinfo *ei)
{
	size_t off = d->pos;
	uint64_t n, key, v;
	int rc = fwc_cbor_get_map(d, &n);

	if (rc != FWC_OK)
		return rc;
	if (n == 0)
		return fwc_fail(ei, off, FWC_ERR_RANGE,
		                "manifest: empty rollout policy (omit it instead)");
	for (uint64_t i = 0; i < n; i++) {
		size_t koff = d->pos;

		if ((rc = fwc_cbor_get_uint(d, &key)) != FWC_OK)
			return rc;
		off = d->pos;
		switch (key) {
		case R_BPS:
			if ((rc = fwc_cbor_get_uint(d, &v)) != FWC_OK)
				return rc;
			if (v > FWC_MANIFEST_BPS_MAX)
				return fwc_fail(ei, off, FWC_ERR_RANGE,
				                "manifest: rollout %llu bps > 10000",
				                (unsigned long long)v);
			r->has_bps = 1;
			r->bps = (uint16_t)v;
			break;
		case R_GROUPS:
			rc = get_list(d, r->groups, &r->n_groups, FWC_MANIFEST_LIST_MAX,
			              FWC_MANIFEST_NAME_MAX, "groups", ei);
			break;
		case R_REGIONS:
			rc = get_list(d, r->regions, &r->n_regions, FWC_MANIFEST_LIST_MAX,
			              FWC_MANIFEST_NAME_MAX, "regions", ei);
			break;
		case R_NOT_BEFORE:
			if ((rc = fwc_cbor_get_uint(d, &r->not_before)) != FWC_OK)
				return rc;
			r->has_not_before = 1;
			break;
		default:
			return fwc_fail(ei, koff, FWC_ERR_UNKNOWN_FIELD,
			                "manifest: unknown rollout field %llu",
			                (unsigned long long)key);
		}
		if (rc != FWC_OK)
			return rc;
	}
	return FWC_OK;
}

static int get_encryption(struct fwc_cbor_dec *d, struct fwc_manifest_encryption *e,
                          struct fwc_errinfo *ei)
{
	size_t off = d->pos;
	uint64_t n, key;
	int rc = fwc_cbor_get_map(d, &n), seen = 0;

	if (rc != FWC_OK)
		return rc;
	for (uint64_t i = 0; i < n; i++) {
		size_t koff = d->pos;

		if ((rc = fwc_cbor_get_uint(d, &key)) != FWC_OK)
			return rc;
		if (key == E_ALG) {
			rc =
			    get_text(d, &e->alg, FWC_MANIFEST_NAME_MAX, "encryption algorithm", ei);
		} else if (key == E_KEYID) {
			size_t voff = d->pos;

			rc = fwc_cbor_get_bytes(d, &e->key_id.p, &e->key_id.len);
			if (rc == FWC_OK &&
			    (e->key_id.len == 0 || e->key_id.len > FWC_MANIFEST_KEYID_MAX))
				return fwc_fail(
				    ei, voff, FWC_ERR_RANGE,
				    "manifest: encryption key id is %zu bytes (allowed 1..32)",
				    e->key_id.len);
		} else {
			return fwc_fail(ei, koff, FWC_ERR_UNKNOWN_FIELD,
			                "manifest: unknown encryption field %llu",
			                (unsigned long long)key);
		}
		if (rc != FWC_OK)
			return rc;
		seen |= 1 << key;
	}
	if (seen != 3)
		return fwc_fail(ei, off, FWC_ERR_MISSING_FIELD,
		                "manifest: encryption field %d (%s) missing", seen & 1 ? 1 : 0,
		                seen & 1 ? "key id" : "algorithm");
	return FWC_OK;
}

int fwc_manifest_decode(struct fwc_manifest *m, const uint8_t *buf, size_t len,
                        struct fwc_errinfo *ei)
{
	struct fwc_cbor_dec d;
	struct fwc_manifest t;
	uint64_t n, key;
	uint32_t seen = 0;
	int rc;

	if (m == NULL || (buf == NULL && len != 0))
		return FWC_ERR_ARG;
	if (len > FWC_MANIFEST_BODY_MAX)
		return fwc_fail(ei, 0, FWC_ERR_TOO_LARGE, "manifest: body of %zu bytes (max %d)",
		                len, FWC_MANIFEST_BODY_MAX);
	memset(&t, 0, sizeof(t));
	fwc_cbor_dec_init(&d, buf, len, FWC_MANIFEST_BODY_MAX, ei);
	if ((rc = fwc_cbor_get_map(&d, &n)) != FWC_OK)
		return rc;
	for (uint64_t i = 0; i < n; i++) {
		size_t koff = d.pos, off;

		if ((rc = fwc_cbor_get_uint(&d, &key)) != FWC_OK)
			return rc;
		off = d.pos;
		if (key >= FWC_MANIFEST_EXT_FIRST) {
			size_t vstart, vlen;

			if ((rc = fwc_cbor_skip(&d, &vstart, &vlen)) != FWC_OK)
				return rc;
			if (t.n_ext == 0)
				t.ext.p = buf + koff;
			t.ext.len = vstart + vlen - (size_t)(t.ext.p - buf);
			t.n_ext++;
			continue;
		}
		switch (key) {
		case K_FORMAT:
			if ((rc = fwc_cbor_get_uint(&d, &t.format)) != FWC_OK)
				return rc;
			if (t.format != FWC_MANIFEST_VERSION)
				return fwc_fail(ei, off, FWC_ERR_UNSUPPORTED,
				                "manifest: format %llu (this reader knows %d)",
				                (unsigned long long)t.format, FWC_MANIFEST_VERSION);
			break;
		case K_PRODUCT:
			rc = get_text(&d, &t.product, FWC_MANIFEST_ID_MAX, "product", ei);
			break;
		case K_VERSION:
			rc = get_text(&d, &t.version, FWC_MANIFEST_ID_MAX, "version", ei);
			break;
		case K_COUNTER:
			rc = fwc_cbor_get_uint(&d, &t.counter);
			break;
		case K_CHANNEL:
			rc = get_text(&d, &t.channel, FWC_MANIFEST_CHANNEL_MAX, "channel", ei);
			break;
		case K_CID: {
			struct fwc_errinfo cei;

			if ((rc = fwc_cbor_get_bytes(&d, &t.cid.p, &t.cid.len)) != FWC_OK)
				return rc;
			if ((rc = fwc_manifest_check_cid(t.cid.p, t.cid.len, &cei)) != FWC_OK)
				return fwc_fail(ei, d.pos - t.cid.len + cei.offset, rc,
				                "manifest: %s", cei.msg);
			break;
		}
		case K_SIZE:
			if ((rc = fwc_cbor_get_uint(&d, &t.size)) != FWC_OK)
				return rc;
			if (t.size == 0)
				return fwc_fail(ei, off, FWC_ERR_RANGE, "manifest: size is 0");
			break;
		case K_SHA256: {
			const uint8_t *p;
			size_t plen;

			if ((rc = fwc_cbor_get_bytes(&d, &p, &plen)) != FWC_OK)
				return rc;
			if (plen != 32)
				return fwc_fail(ei, off, FWC_ERR_MALFORMED,
				                "manifest: sha256 is %zu bytes (expected 32)",
				                plen);
			memcpy(t.sha256, p, 32);
			break;
		}
		case K_HW:
			rc = get_list(&d, t.hw, &t.n_hw, FWC_MANIFEST_HW_MAX, FWC_MANIFEST_ID_MAX,
			              "hardware ids", ei);
			break;
		case K_CREATED:
			rc = fwc_cbor_get_uint(&d, &t.created);
			break;
		case K_ROLLOUT:
			rc = get_rollout(&d, &t.rollout, ei);
			t.has_rollout = 1;
			break;
		case K_ENCRYPTION:
			rc = get_encryption(&d, &t.encryption, ei);
			t.has_encryption = 1;
			break;
		case K_LICENCE:
			rc = get_text(&d, &t.licence, FWC_MANIFEST_ID_MAX, "licence", ei);
			t.has_licence = 1;
			break;
		case K_METADATA:
			if ((rc = fwc_cbor_get_bytes(&d, &t.metadata.p, &t.metadata.len)) != FWC_OK)
				return rc;
			if (t.metadata.len > FWC_MANIFEST_META_MAX)
				return fwc_fail(ei, off, FWC_ERR_TOO_LARGE,
				                "manifest: metadata is %zu bytes (max 255)",
				                t.metadata.len);
			t.has_metadata = 1;
			break;
		default:
			return fwc_fail(ei, koff, FWC_ERR_UNKNOWN_FIELD,
			                "manifest: unknown critical field %llu",
			                (unsigned long long)key);
		}
		if (rc != FWC_OK)
			return rc;
		seen |= (uint32_t)1 << key;
	}
	if ((rc = fwc_cbor_finish(&d)) != FWC_OK)
		return rc;
	for (int k = 0; k < K_REQUIRED; k++)
		if (!(seen & (1u << k)))
			return fwc_fail(ei, 0, FWC_ERR_MISSING_FIELD,
			                "manifest: required field %d (%s) missing", k,
			                field_names[k]);
	*m = t;
	return FWC_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Signed envelope                                                                          */

int fwc_manifest_digest(uint8_t digest[32], const uint8_t *body, size_t body_len)
{
	return fwc_tagged_hash(digest, FWC_TAG_MANIFEST, body, body_len);
}

int fwc_signed_manifest_encode(uint8_t *out, size_t outcap, size_t *outlen, const uint8_t *body,
                               size_t body_len, const struct fwc_keyset_sig *sigs, size_t n_sigs,
                               struct fwc_errinfo *ei)
{
	const struct fwc_keyset_sig *sorted[FWC_MANIFEST_SIGS_MAX];
	struct fwc_manifest check;
	struct fwc_cbor_enc e;
	int rc;

	if (outlen == NULL || (out == NULL && outcap != 0) || (body == NULL && body_len != 0) ||
	    (sigs == NULL && n_sigs != 0))
		return FWC_ERR_ARG;
	if (n_sigs > FWC_MANIFEST_SIGS_MAX)
		return fwc_fail(ei, 0, FWC_ERR_TOO_LARGE, "manifest: %zu signatures (max %d)",
		                n_sigs, FWC_MANIFEST_SIGS_MAX);
	if ((rc = fwc_manifest_decode(&check, body, body_len, ei)) != FWC_OK)
		return rc;
	for (size_t i = 0; i < n_sigs; i++) {
		size_t j = i;

		if (sigs[i].pubkey == NULL || sigs[i].sig == NULL)
			return FWC_ERR_ARG;
		while (j > 0 &&
		       memcmp(sorted[j - 1]->pubkey, sigs[i].pubkey, FWC_PUBKEY_BIN_LEN) > 0) {
			sorted[j] = sorted[j - 1];
			j--;
		}
		sorted[j] = &sigs[i];
		if (j > 0 && memcmp(sorted[j - 1]->pubkey, sigs[i].pubkey, FWC_PUBKEY_BIN_LEN) == 0)
			return fwc_fail(ei, 0, FWC_ERR_DUPLICATE,
			                "manifest: two signatures by the same key");
	}
	fwc_cbor_enc_init(&e, out, outcap);
	fwc_cbor_put_map(&e, 2);
	fwc_cbor_put_uint(&e, S_BODY);
	fwc_cbor_put_bytes(&e, body, body_len);
	fwc_cbor_put_uint(&e, S_SIGS);
	fwc_cbor_put_array(&e, n_sigs);
	for (size_t i = 0; i < n_sigs; i++) {
		fwc_cbor_put_array(&e, 2);
		fwc_cbor_put_bytes(&e, sorted[i]->pubkey, FWC_PUBKEY_BIN_LEN);
		fwc_cbor_put_bytes(&e, sorted[i]->sig, FWC_SIG_LEN);
	}
	return fwc_cbor_enc_finish(&e, outlen);
}

int fwc_signed_manifest_decode(struct fwc_signed_manifest *sm, const uint8_t *buf, size_t len,
                               struct fwc_errinfo *ei)
{
	struct fwc_cbor_dec d;
	struct fwc_signed_manifest t;
	uint64_t n, key, cnt;
	size_t off, body_off = 0;
	int rc, seen = 0;

	if (sm == NULL || (buf == NULL && len != 0))
		return FWC_ERR_ARG;
	if (len > FWC_SIGNED_MANIFEST_MAX)
		return fwc_fail(ei, 0, FWC_ERR_TOO_LARGE, "signed manifest: %zu bytes (max %d)",
		                len, FWC_SIGNED_MANIFEST_MAX);
	memset(&t, 0, sizeof(t));
	fwc_cbor_dec_init(&d, buf, len, FWC_SIGNED_MANIFEST_MAX, ei);
	if ((rc = fwc_cbor_get_map(&d, &n)) != FWC_OK)
		return rc;
	for (uint64_t i = 0; i < n; i++) {
		size_t koff = d.pos;

		if ((rc = fwc_cbor_get_uint(&d, &key)) != FWC_OK)
			return rc;
		off = d.pos;
		if (key == S_BODY) {
			if ((rc = fwc_cbor_get_bytes(&d, &t.body, &t.body_len)) != FWC_OK)
				return rc;
			if (t.body_len > FWC_MANIFEST_BODY_MAX)
				return fwc_fail(ei, off, FWC_ERR_TOO_LARGE,
				                "signed manifest: body of %zu bytes (max %d)",
				                t.body_len, FWC_MANIFEST_BODY_MAX);
			body_off = (size_t)(t.body - buf);
		} else if (key == S_SIGS) {
			if ((rc = fwc_cbor_get_array(&d, &cnt)) != FWC_OK)
				return rc;
			if (cnt > FWC_MANIFEST_SIGS_MAX)
				return fwc_fail(ei, off, FWC_ERR_TOO_LARGE,
				                "signed manifest: %llu signatures (max %d)",
				                (unsigned long long)cnt, FWC_MANIFEST_SIGS_MAX);
			for (size_t s = 0; s < cnt; s++) {
				uint64_t two;
				size_t plen, slen;

				off = d.pos;
				if ((rc = fwc_cbor_get_array(&d, &two)) != FWC_OK)
					return rc;
				if (two != 2)
					return fwc_fail(ei, off, FWC_ERR_MALFORMED,
					                "signed manifest: signature %zu has %llu "
					                "elements (expected 2)",
					                s, (unsigned long long)two);
				off = d.pos;
				if ((rc = fwc_cbor_get_bytes(&d, &t.sigs[s].pubkey, &plen)))
					return rc;
				if (plen != FWC_PUBKEY_BIN_LEN)
					return fwc_fail(ei, off, FWC_ERR_MALFORMED,
					                "signed manifest: key %zu is %zu bytes "
					                "(expected 33)",
					                s, plen);
				if (s > 0) {
					int c = memcmp(t.sigs[s - 1].pubkey, t.sigs[s].pubkey,
					               FWC_PUBKEY_BIN_LEN);
					if (c >= 0)
						return fwc_fail(
						    ei, off,
						    c == 0 ? FWC_ERR_DUPLICATE : FWC_ERR_UNSORTED,
						    "signed manifest: signature %zu %s", s,
						    c == 0 ? "repeats the previous signer"
						           : "is not sorted by public key");
				}
				off = d.pos;
				if ((rc = fwc_cbor_get_bytes(&d, &t.sigs[s].sig, &slen)))
					return rc;
				if (slen != FWC_SIG_LEN)
					return fwc_fail(
					    ei, off, FWC_ERR_MALFORMED,
					    "signed manifest: signature %zu is %zu bytes "
					    "(expected 64)",
					    s, slen);
			}
			t.n_sigs = (size_t)cnt;
		} else {
			return fwc_fail(ei, koff, FWC_ERR_UNKNOWN_FIELD,
			                "signed manifest: unknown field %llu",
			                (unsigned long long)key);
		}
		seen |= 1 << key;
	}
	if ((rc = fwc_cbor_finish(&d)) != FWC_OK)
		return rc;
	if (seen != 6)
		return fwc_fail(ei, 0, FWC_ERR_MISSING_FIELD, "signed manifest: field %d missing",
		                seen & 2 ? 2 : 1);
	rc = fwc_manifest_decode(&t.manifest, t.body, t.body_len, ei);
	if (rc != FWC_OK) {
		/* Report offsets in the envelope, not in the embedded body. */
		if (ei != NULL)
			ei->offset += body_off;
		return rc;
	}
	*sm = t;
	return FWC_OK;
}

int fwc_signed_manifest_sign(uint8_t *out, size_t outcap, size_t *outlen, const uint8_t *in,
                             size_t in_len, const struct fwc_seckey *sk, const uint8_t aux[32],
                             struct fwc_errinfo *ei)
{
	struct fwc_signed_manifest sm;
	struct fwc_keyset_sig sigs[FWC_MANIFEST_SIGS_MAX];
	uint8_t digest[32], pk_bin[FWC_PUBKEY_BIN_LEN], sig[FWC_SIG_LEN];
	struct fwc_pubkey pk;
	size_t n = 0;
	int rc;

	if (outlen == NULL || sk == NULL || (out == NULL && outcap != 0) ||
	    (in == NULL && in_len != 0))
		return FWC_ERR_ARG;
	if (out != NULL && in != NULL && out < in + in_len && in < out + outcap)
		return FWC_ERR_ARG; /* the new encoding is built from pointers into in */
	if ((rc = fwc_signed_manifest_decode(&sm, in, in_len, ei)) != FWC_OK)
		return rc;
	if ((rc = fwc_key_public(&pk, sk)) != FWC_OK ||
	    (rc = fwc_pubkey_to_bin(pk_bin, &pk)) != FWC_OK ||
	    (rc = fwc_manifest_digest(digest, sm.body, sm.body_len)) != FWC_OK)
		return rc;
	if (sk->alg == FWC_ALG_BIP340 && aux != NULL)
		rc = fwc_sign_bip340_aux(sig, sk, aux, digest, sizeof(digest));
	else
		rc = fwc_sign(sig, sk, digest, sizeof(digest));
	if (rc != FWC_OK)
		return rc;
	for (size_t i = 0; i < sm.n_sigs; i++)
		if (memcmp(sm.sigs[i].pubkey, pk_bin, FWC_PUBKEY_BIN_LEN) != 0)
			sigs[n++] = sm.sigs[i];
	if (n >= FWC_MANIFEST_SIGS_MAX)
		return fwc_fail(ei, 0, FWC_ERR_TOO_LARGE, "manifest: already %d signatures",
		                FWC_MANIFEST_SIGS_MAX);
	sigs[n].pubkey = pk_bin;
	sigs[n].sig = sig;
	n++;
	return fwc_signed_manifest_encode(out, outcap, outlen, sm.body, sm.body_len, sigs, n, ei);
}

int fwc_signed_manifest_verify(const struct fwc_signed_manifest *sm, const struct fwc_keyset *ks,
                               unsigned *valid, struct fwc_errinfo *ei)
{
	uint8_t digest[32];
	int rc;

	if (sm == NULL || ks == NULL)
		return FWC_ERR_ARG;
	if ((rc = fwc_manifest_digest(digest, sm->body, sm->body_len)) != FWC_OK)
		return rc;
	return fwc_keyset_verify_threshold(ks, digest, sm->sigs, sm->n_sigs, valid, ei);
}
