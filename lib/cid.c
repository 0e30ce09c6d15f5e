/* CIDs: binary and text forms, v0/v1 conversion (docs/formats/cid.md).
 *
 * Design: struct fwc_cid is a plain value (version, codec, multihash code, 32-byte digest), so
 * CIDs are compared and copied without pointers into buffers. Decoding is deliberately narrower
 * than the general CID spec — only sha2-256 multihashes of raw or dag-pb blocks are accepted —
 * because nothing else can appear in a fwchain image DAG, and every refusal says which rule
 * failed (unsupported codec, unsupported hash, digest length, varint, trailing bytes). */
#include "fwchain/cid.h"

#include <string.h>

#include "fwchain/hex.h"
#include "fwchain/multibase.h"
#include "fwchain/sha256.h"

static int codec_ok(uint64_t codec)
{
	return codec == FWC_CID_CODEC_RAW || codec == FWC_CID_CODEC_DAGPB;
}

int fwc_cid_from_block(struct fwc_cid *cid, unsigned version, uint64_t codec, const void *data,
		       size_t len)
{
	struct fwc_cid c;
	int rc;

	if (cid == NULL || (data == NULL && len > 0) || version > 1)
		return FWC_ERR_ARG;
	if (!codec_ok(codec) || (version == 0 && codec != FWC_CID_CODEC_DAGPB))
		return FWC_ERR_UNSUPPORTED;
	memset(&c, 0, sizeof(c));
	c.version = (uint8_t)version;
	c.codec = codec;
	c.mh_code = FWC_MH_SHA2_256;
	rc = fwc_sha256(c.digest, data, len);
	if (rc < 0)
		return rc;
	*cid = c;
	return FWC_OK;
}

int fwc_cid_matches(const struct fwc_cid *cid, const void *data, size_t len)
{
	uint8_t h[FWC_SHA256_LEN];

	if (cid == NULL || cid->mh_code != FWC_MH_SHA2_256 || fwc_sha256(h, data, len) < 0)
		return 0;
	return fwc_ct_equal(h, cid->digest, sizeof(h));
}

int fwc_cid_equal(const struct fwc_cid *a, const struct fwc_cid *b)
{
	return a->version == b->version && a->codec == b->codec && a->mh_code == b->mh_code &&
	       memcmp(a->digest, b->digest, FWC_CID_DIGEST_LEN) == 0;
}

int fwc_cid_encode(uint8_t *out, size_t outcap, size_t *outlen, const struct fwc_cid *cid)
{
	uint8_t buf[FWC_CID_MAX_BINARY + 2 * FWC_VARINT_MAX];
	size_t n = 0;

	if (out == NULL || outlen == NULL || cid == NULL || cid->version > 1 ||
	    !codec_ok(cid->codec) || cid->mh_code != FWC_MH_SHA2_256 ||
	    (cid->version == 0 && cid->codec != FWC_CID_CODEC_DAGPB))
		return FWC_ERR_ARG;
	if (cid->version == 1) {
		n += fwc_varint_encode(buf + n, 1);
		n += fwc_varint_encode(buf + n, cid->codec);
	}
	buf[n++] = FWC_MH_SHA2_256;
	buf[n++] = FWC_CID_DIGEST_LEN;
	memcpy(buf + n, cid->digest, FWC_CID_DIGEST_LEN);
	n += FWC_CID_DIGEST_LEN;
	if (outcap < n)
		return FWC_ERR_BUFSIZE;
	memcpy(out, buf, n);
	*outlen = n;
	return FWC_OK;
}

/* Reads a varint at in[*pos] and advances *pos; errors carry absolute offsets. */
static int read_varint(uint64_t *v, size_t *pos, const uint8_t *in, size_t len,
		       struct fwc_errinfo *ei, const char *what)
{
	size_t used;
	int rc = fwc_varint_decode(v, &used, in + *pos, len - *pos, NULL);

	if (rc == FWC_ERR_NONCANONICAL)
		return fwc_fail(ei, *pos, rc, "%s varint is not minimally encoded", what);
	if (rc == FWC_ERR_TRUNCATED)
		return fwc_fail(ei, *pos, rc, "CID ends inside its %s", what);
	if (rc < 0)
		return fwc_fail(ei, *pos, rc, "%s varint is longer than 9 bytes", what);
	*pos += used;
	return FWC_OK;
}

int fwc_cid_decode(struct fwc_cid *cid, size_t *used, const uint8_t *in, size_t len,
		   struct fwc_errinfo *ei)
{
	struct fwc_cid c;
	size_t pos = 0;
	uint64_t v, dlen;
	int rc;

	if (cid == NULL || (in == NULL && len > 0))
		return FWC_ERR_ARG;
	memset(&c, 0, sizeof(c));
	if (len == 0)
		return fwc_fail(ei, 0, FWC_ERR_TRUNCATED, "empty CID");
	if (in[0] == FWC_MH_SHA2_256) {
		/* A CIDv0 is a bare sha2-256 multihash; v1 can never start with 0x12 (version 18). */
		c.version = 0;
		c.codec = FWC_CID_CODEC_DAGPB;
	} else {
		if ((rc = read_varint(&v, &pos, in, len, ei, "version")) < 0)
			return rc;
		if (v != 1)
			return fwc_fail(ei, 0, FWC_ERR_UNSUPPORTED,
					"CID version %llu is not supported",
					(unsigned long long)v);
		c.version = 1;
		if ((rc = read_varint(&c.codec, &pos, in, len, ei, "codec")) < 0)
			return rc;
		if (!codec_ok(c.codec))
			return fwc_fail(ei, pos - 1, FWC_ERR_UNSUPPORTED,
					"codec 0x%llx is not raw (0x55) or dag-pb (0x70)",
					(unsigned long long)c.codec);
	}
	{
		size_t at = pos;

		if ((rc = read_varint(&c.mh_code, &pos, in, len, ei, "multihash code")) < 0)
			return rc;
		if (c.mh_code != FWC_MH_SHA2_256)
			return fwc_fail(ei, at, FWC_ERR_UNSUPPORTED,
					"hash function 0x%llx is not sha2-256 (0x12)",
					(unsigned long long)c.mh_code);
		at = pos;
		if ((rc = read_varint(&dlen, &pos, in, len, ei, "digest length")) < 0)
			return rc;
		if (dlen != FWC_CID_DIGEST_LEN)
			return fwc_fail(ei, at, FWC_ERR_MALFORMED,
					"sha2-256 digest length is %llu, not 32",
					(unsigned long long)dlen);
	}
	if (len - pos < FWC_CID_DIGEST_LEN)
		return fwc_fail(ei, len, FWC_ERR_TRUNCATED, "CID ends inside its digest");
	memcpy(c.digest, in + pos, FWC_CID_DIGEST_LEN);
	pos += FWC_CID_DIGEST_LEN;
	if (used == NULL && pos != len)
		return fwc_fail(ei, pos, FWC_ERR_TRAILING, "%zu bytes after the CID", len - pos);
	*cid = c;
	if (used)
		*used = pos;
	return FWC_OK;
}

int fwc_cid_parse(struct fwc_cid *cid, const char *text, size_t len, struct fwc_errinfo *ei)
{
	uint8_t bin[FWC_CID_MAX_TEXT];
	size_t n = 0;
	struct fwc_cid c;
	int rc;

	if (cid == NULL || (text == NULL && len > 0))
		return FWC_ERR_ARG;
	if (len > FWC_CID_MAX_TEXT)
		return fwc_fail(ei, FWC_CID_MAX_TEXT, FWC_ERR_TOO_LARGE,
				"CID text longer than %d characters", FWC_CID_MAX_TEXT);
	if (len == 46 && text[0] == 'Q' && text[1] == 'm') {
		rc = fwc_base58_decode(bin, sizeof(bin), &n, text, len, ei);
		if (rc < 0)
			return rc;
		rc = fwc_cid_decode(&c, NULL, bin, n, ei);
		if (rc == FWC_OK && c.version != 0)
			rc = fwc_fail(ei, 0, FWC_ERR_MALFORMED, "Qm… text does not hold a CIDv0");
		if (rc < 0)
			return rc;
		*cid = c;
		return FWC_OK;
	}
	if (len == 0)
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED, "empty CID text");
	if (text[0] != FWC_MULTIBASE_BASE32 && text[0] != FWC_MULTIBASE_BASE58BTC)
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED,
				"not a CID: neither a Qm… CIDv0 nor multibase 'b' or 'z'");
	rc = fwc_multibase_decode(bin, sizeof(bin), &n, NULL, text, len, ei);
	if (rc == FWC_ERR_BUFSIZE)
		return fwc_fail(ei, 0, FWC_ERR_TOO_LARGE, "CID text decodes to too many bytes");
	if (rc < 0)
		return rc;
	rc = fwc_cid_decode(&c, NULL, bin, n, ei);
	if (rc < 0) {
		/* Offsets inside the decoded bytes mean nothing in the text; say so. */
		if (ei)
			ei->offset = 0;
		return rc;
	}
	if (c.version == 0)
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED,
				"a CIDv0 must not carry a multibase prefix");
	*cid = c;
	return FWC_OK;
}

int fwc_cid_format(char *out, size_t outcap, const struct fwc_cid *cid)
{
	uint8_t bin[FWC_CID_MAX_BINARY];
	size_t n;
	int rc;

	if (out == NULL || cid == NULL)
		return FWC_ERR_ARG;
	if ((rc = fwc_cid_encode(bin, sizeof(bin), &n, cid)) < 0)
		return rc;
	if (cid->version == 0)
		return fwc_base58_encode(out, outcap, NULL, bin, n);
	return fwc_multibase_encode(out, outcap, NULL, FWC_MULTIBASE_BASE32, bin, n);
}

int fwc_cid_to_v1(struct fwc_cid *out, const struct fwc_cid *in)
{
	if (out == NULL || in == NULL)
		return FWC_ERR_ARG;
	if (out != in)
		*out = *in;
	out->version = 1;
	return FWC_OK;
}

int fwc_cid_to_v0(struct fwc_cid *out, const struct fwc_cid *in)
{
	if (out == NULL || in == NULL)
		return FWC_ERR_ARG;
	if (in->codec != FWC_CID_CODEC_DAGPB || in->mh_code != FWC_MH_SHA2_256)
		return FWC_ERR_UNSUPPORTED;
	if (out != in)
		*out = *in;
	out->version = 0;
	return FWC_OK;
}
