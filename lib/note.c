/* C2SP signed notes, tlog checkpoints and cosignature/v1: parsing, verification against a set of
 * verifier keys with a quorum, and signing.
 *
 * Main design choice: parsing and verification are separate, zero-copy steps. fwc_note_parse
 * validates the whole syntax once (UTF-8, control characters, the signature block, canonical
 * base64) and records pointers into the caller's buffer; fwc_note_verify then only matches lines
 * to verifier keys by (name, key id) and runs Ed25519, never allocating. The one copy made is
 * the cosignature/v1 message (two header lines + the text) into a bounded stack buffer, because
 * Ed25519 needs the signed message contiguous. Duplicate lines by a known key are all verified,
 * as the spec says every line of a known key MUST be, and the key counts once. */
#include "fwchain/note.h"

#include "fwchain/base64.h"
#include "fwchain/hex.h"
#include "fwchain/sha256.h"

#include <string.h>

static const char em_dash_sp[] = "\xe2\x80\x94 "; /* U+2014 then a space: 4 bytes */
#define EM_DASH_SP_LEN 4
static const char cosig_header[] = "cosignature/v1\ntime ";

/* ---- text rules -------------------------------------------------------------------------- */

/* Decode one UTF-8 sequence at p (rem >= 1 bytes). Returns its length, or 0 when it is not the
 * shortest encoding of a Unicode scalar value. */
static size_t utf8_next(const unsigned char *p, size_t rem, uint32_t *cp)
{
	unsigned char c = p[0];
	size_t n;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c < 0xc2)
		return 0; /* a continuation byte, or an overlong two-byte lead */
	if (c < 0xe0) {
		n = 2;
		v = c & 0x1f;
	} else if (c < 0xf0) {
		n = 3;
		v = c & 0x0f;
	} else if (c < 0xf5) {
		n = 4;
		v = c & 0x07;
	} else {
		return 0;
	}
	if (rem < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10ffff)) ||
	    (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/* Unicode White_Space (what Go's unicode.IsSpace and the spec's "Unicode spaces" mean). */
static int is_space(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
	       c == 0x205f || c == 0x3000;
}

/* Note character rules over s[0..len): valid UTF-8, no control character but newline (and, when
 * no_newline, not even that). Offsets in ei are base + index. */
static int text_check(const char *s, size_t len, size_t base, int no_newline,
                      struct fwc_errinfo *ei)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		uint32_t c;
		size_t n = utf8_next(p + i, len - i, &c);

		if (n == 0)
			return fwc_fail(ei, base + i, FWC_ERR_MALFORMED,
			                "invalid UTF-8 at byte %zu", base + i);
		if ((c < 0x20 && c != '\n') || (c == '\n' && no_newline))
			return fwc_fail(ei, base + i, FWC_ERR_MALFORMED,
			                "control character 0x%02x at byte %zu", (unsigned)c,
			                base + i);
		i += n;
	}
	return FWC_OK;
}

static int name_check(const char *name, size_t len, size_t base, struct fwc_errinfo *ei)
{
	const unsigned char *p = (const unsigned char *)name;

	if (len == 0)
		return fwc_fail(ei, base, FWC_ERR_MALFORMED, "empty key name");
	if (len > FWC_NOTE_NAME_MAX)
		return fwc_fail(ei, base, FWC_ERR_MALFORMED, "key name longer than %d bytes",
		                FWC_NOTE_NAME_MAX);
	for (size_t i = 0; i < len;) {
		uint32_t c;
		size_t n = utf8_next(p + i, len - i, &c);

		if (n == 0)
			return fwc_fail(ei, base + i, FWC_ERR_MALFORMED,
			                "key name is not valid UTF-8");
		if (is_space(c))
			return fwc_fail(ei, base + i, FWC_ERR_MALFORMED,
			                "key name contains a space character");
		if (c == '+')
			return fwc_fail(ei, base + i, FWC_ERR_MALFORMED, "key name contains '+'");
		if (c < 0x20)
			return fwc_fail(ei, base + i, FWC_ERR_MALFORMED,
			                "key name contains a control character");
		i += n;
	}
	return FWC_OK;
}

int fwc_note_name_check(const char *name, size_t len, struct fwc_errinfo *ei)
{
	if (name == NULL && len != 0)
		return FWC_ERR_ARG;
	return name_check(name, len, 0, ei);
}

/* ---- keys -------------------------------------------------------------------------------- */

int fwc_note_keyid(uint8_t id[FWC_NOTE_KEYID_LEN], const char *name, size_t name_len, uint8_t type,
                   const uint8_t *pubkey, size_t pubkey_len)
{
	uint8_t buf[FWC_NOTE_NAME_MAX + 2 + 64], h[32];
	int rc;

	if (id == NULL || name == NULL || pubkey == NULL || name_len > FWC_NOTE_NAME_MAX ||
	    pubkey_len > 64)
		return FWC_ERR_ARG;
	memcpy(buf, name, name_len);
	buf[name_len] = '\n';
	buf[name_len + 1] = type;
	memcpy(buf + name_len + 2, pubkey, pubkey_len);
	if ((rc = fwc_sha256(h, buf, name_len + 2 + pubkey_len)) < 0)
		return rc;
	memcpy(id, h, FWC_NOTE_KEYID_LEN);
	return FWC_OK;
}

static int type_supported(uint8_t type)
{
	return type == FWC_NOTE_SIG_ED25519 || type == FWC_NOTE_SIG_COSIG_V1;
}

int fwc_note_vkey_init(struct fwc_note_vkey *vk, const char *name, size_t name_len, uint8_t type,
                       const struct fwc_pubkey *pk)
{
	struct fwc_note_vkey tmp;
	int rc;

	if (vk == NULL || pk == NULL || (name == NULL && name_len != 0))
		return FWC_ERR_ARG;
	if ((rc = name_check(name, name_len, 0, NULL)) < 0)
		return rc;
	if (!type_supported(type))
		return FWC_ERR_UNSUPPORTED;
	if (pk->alg != FWC_ALG_ED25519)
		return FWC_ERR_KEY;
	memset(&tmp, 0, sizeof(tmp));
	memcpy(tmp.name, name, name_len);
	tmp.name_len = name_len;
	tmp.type = type;
	memcpy(tmp.pubkey, pk->key, 32);
	if ((rc = fwc_note_keyid(tmp.keyid, name, name_len, type, pk->key, 32)) < 0)
		return rc;
	*vk = tmp;
	return FWC_OK;
}

int fwc_note_vkey_parse(struct fwc_note_vkey *vk, const char *text, size_t len,
                        struct fwc_errinfo *ei)
{
	struct fwc_note_vkey tmp;
	struct fwc_pubkey pk;
	uint8_t raw[48], id[FWC_NOTE_KEYID_LEN];
	const char *plus;
	size_t nlen, rawlen = 0, off;
	int rc;

	if (vk == NULL || (text == NULL && len != 0))
		return FWC_ERR_ARG;
	plus = len ? memchr(text, '+', len) : NULL;
	if (plus == NULL)
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED,
		                "verifier key is not <name>+<key id>+<key>: no '+'");
	nlen = (size_t)(plus - text);
	if ((rc = name_check(text, nlen, 0, ei)) < 0)
		return rc;
	off = nlen + 1;
	if (len - off < 9 || text[off + 8] != '+')
		return fwc_fail(ei, off, FWC_ERR_MALFORMED,
		                "verifier key id must be 8 hex digits followed by '+'");
	for (size_t i = 0; i < 8; i++) {
		char c = text[off + i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return fwc_fail(ei, off + i, FWC_ERR_MALFORMED,
			                "verifier key id must be 8 lowercase hex digits");
	}
	memset(&tmp, 0, sizeof(tmp));
	if (fwc_hex_decode(tmp.keyid, sizeof(tmp.keyid), &rawlen, text + off, 8) < 0)
		return fwc_fail(ei, off, FWC_ERR_MALFORMED, "bad verifier key id");
	off += 9;
	rc = fwc_base64_decode(NULL, 0, &rawlen, text + off, len - off, ei);
	if (rc < 0) {
		if (ei != NULL)
			ei->offset += off;
		return rc;
	}
	if (rawlen < 1 || rawlen > sizeof(raw))
		return fwc_fail(ei, off, FWC_ERR_MALFORMED, "verifier key material has %zu bytes",
		                rawlen);
	if ((rc = fwc_base64_decode(raw, sizeof(raw), &rawlen, text + off, len - off, NULL)) < 0)
		return rc;
	if (!type_supported(raw[0]))
		return fwc_fail(ei, off, FWC_ERR_UNSUPPORTED,
		                "signature type 0x%02x is not supported (only 0x01 Ed25519 and "
		                "0x04 cosignature/v1)",
		                raw[0]);
	if (rawlen != 33)
		return fwc_fail(ei, off, FWC_ERR_MALFORMED,
		                "Ed25519 verifier key has %zu key bytes, not 32", rawlen - 1);
	memcpy(tmp.name, text, nlen);
	tmp.name_len = nlen;
	tmp.type = raw[0];
	memcpy(tmp.pubkey, raw + 1, 32);
	if ((rc = fwc_note_keyid(id, text, nlen, tmp.type, tmp.pubkey, 32)) < 0)
		return rc;
	if (memcmp(id, tmp.keyid, FWC_NOTE_KEYID_LEN) != 0)
		return fwc_fail(ei, nlen + 1, FWC_ERR_MALFORMED,
		                "verifier key id %.8s does not match its name and key (want "
		                "%02x%02x%02x%02x)",
		                text + nlen + 1, id[0], id[1], id[2], id[3]);
	pk.alg = FWC_ALG_ED25519;
	memcpy(pk.key, tmp.pubkey, 32);
	if (fwc_pubkey_check(&pk) < 0)
		return fwc_fail(ei, off, FWC_ERR_KEY, "verifier key is not a valid Ed25519 key");
	*vk = tmp;
	return FWC_OK;
}

int fwc_note_vkey_format(char *out, size_t outcap, const struct fwc_note_vkey *vk)
{
	uint8_t raw[33];
	char b64[48], hex[9];
	size_t bl = 0, nl = 0, o = 0;

	if (out == NULL || vk == NULL || vk->name_len > FWC_NOTE_NAME_MAX)
		return FWC_ERR_ARG;
	raw[0] = vk->type;
	memcpy(raw + 1, vk->pubkey, 32);
	if (fwc_base64_encode(b64, sizeof(b64), &bl, raw, sizeof(raw)) < 0)
		return FWC_ERR_ARG;
	if (fwc_hex_encode(hex, sizeof(hex), vk->keyid, FWC_NOTE_KEYID_LEN) < 0)
		return FWC_ERR_ARG;
	/* "<name>+<8 hex>+<base64>", the name cut at a NUL as "%.*s" would */
	while (nl < vk->name_len && vk->name[nl] != '\0')
		nl++;
	if (nl + 1 + 8 + 1 + bl >= outcap)
		return FWC_ERR_BUFSIZE;
	memcpy(out, vk->name, nl);
	o = nl;
	out[o++] = '+';
	memcpy(out + o, hex, 8);
	o += 8;
	out[o++] = '+';
	memcpy(out + o, b64, bl);
	out[o + bl] = '\0';
	return FWC_OK;
}

/* ---- parsing ----------------------------------------------------------------------------- */

/* Validate one signature line line[0..ll) found at offset `at` and fill s. */
static int parse_sig_line(struct fwc_note_sig *s, const char *line, size_t ll, size_t at,
                          struct fwc_errinfo *ei)
{
	const char *rest, *sp, *b64;
	size_t rl, nl, bl, declen = 0, idlen = 0;
	uint8_t head[6];
	int rc;

	if (ll < EM_DASH_SP_LEN || memcmp(line, em_dash_sp, EM_DASH_SP_LEN) != 0)
		return fwc_fail(ei, at, FWC_ERR_MALFORMED,
		                "signature line at byte %zu does not start with an em dash and a "
		                "space",
		                at);
	rest = line + EM_DASH_SP_LEN;
	rl = ll - EM_DASH_SP_LEN;
	sp = memchr(rest, ' ', rl);
	if (sp == NULL)
		return fwc_fail(ei, at, FWC_ERR_MALFORMED,
		                "signature line at byte %zu has no space between name and "
		                "signature",
		                at);
	nl = (size_t)(sp - rest);
	if ((rc = name_check(rest, nl, at + EM_DASH_SP_LEN, ei)) < 0)
		return rc;
	b64 = sp + 1;
	bl = rl - nl - 1;
	if (bl == 0)
		return fwc_fail(ei, at, FWC_ERR_MALFORMED, "signature line at byte %zu is empty",
		                at);
	if ((rc = fwc_base64_decode(NULL, 0, &declen, b64, bl, ei)) < 0) {
		if (ei != NULL)
			ei->offset += (size_t)(b64 - line) + at;
		return rc;
	}
	if (declen < FWC_NOTE_KEYID_LEN + 1)
		return fwc_fail(ei, at, FWC_ERR_MALFORMED,
		                "signature at byte %zu has %zu bytes, fewer than a key id and one "
		                "signature byte",
		                at, declen);
	/* The whole string is valid, so its first 8 characters are a valid quantum or two. */
	if ((rc = fwc_base64_decode(head, sizeof(head), &idlen, b64, bl < 8 ? bl : 8, NULL)) < 0)
		return rc;
	s->line = line;
	s->line_len = ll;
	s->name = rest;
	s->name_len = nl;
	s->b64 = b64;
	s->b64_len = bl;
	memcpy(s->keyid, head, FWC_NOTE_KEYID_LEN);
	s->sig_len = declen - FWC_NOTE_KEYID_LEN;
	return FWC_OK;
}

int fwc_note_parse(struct fwc_note *n, const char *msg, size_t len, struct fwc_errinfo *ei)
{
	struct fwc_note tmp;
	size_t split, p;
	int rc, found = 0;

	if (n == NULL || (msg == NULL && len != 0))
		return FWC_ERR_ARG;
	if (len > FWC_NOTE_MAX_LEN)
		return fwc_fail(ei, FWC_NOTE_MAX_LEN, FWC_ERR_TOO_LARGE,
		                "note has %zu bytes, more than %d", len, FWC_NOTE_MAX_LEN);
	if ((rc = text_check(msg, len, 0, 0, ei)) < 0)
		return rc;
	/* The text ends at the last blank line: signature lines never contain an empty line. */
	for (split = len >= 2 ? len - 2 : 0; len >= 2; split--) {
		if (msg[split] == '\n' && msg[split + 1] == '\n') {
			found = 1;
			break;
		}
		if (split == 0)
			break;
	}
	if (!found)
		return fwc_fail(ei, len, FWC_ERR_MALFORMED,
		                "note has no blank line before its signatures");
	p = split + 2;
	if (p == len)
		return fwc_fail(ei, p, FWC_ERR_MALFORMED, "note has no signature lines");
	if (msg[len - 1] != '\n')
		return fwc_fail(ei, len, FWC_ERR_MALFORMED, "note does not end with a newline");
	tmp.text = msg;
	tmp.text_len = split + 1;
	tmp.nsigs = 0;
	while (p < len) {
		const char *eol = memchr(msg + p, '\n', len - p);
		size_t ll = (size_t)(eol - (msg + p));

		if (tmp.nsigs >= FWC_NOTE_MAX_SIGS)
			return fwc_fail(ei, p, FWC_ERR_TOO_LARGE,
			                "note has more than %d signatures", FWC_NOTE_MAX_SIGS);
		if ((rc = parse_sig_line(&tmp.sigs[tmp.nsigs], msg + p, ll, p, ei)) < 0)
			return rc;
		tmp.nsigs++;
		p += ll + 1;
	}
	memcpy(n, &tmp, offsetof(struct fwc_note, sigs) + tmp.nsigs * sizeof(tmp.sigs[0]));
	return FWC_OK;
}

/* ---- verification ------------------------------------------------------------------------ */

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* "cosignature/v1\ntime <t>\n" || text into buf (cap bytes). Returns the length or 0. */
static size_t cosig_message(uint8_t *buf, size_t cap, uint64_t t, const char *text, size_t len)
{
	char line[48];
	size_t hl = sizeof(cosig_header) - 1, dl = 0;

	memcpy(line, cosig_header, hl);
	if (fwc_dec_encode(line + hl, sizeof(line) - hl - 1, &dl, t) < 0)
		return 0;
	hl += dl;
	line[hl++] = '\n';
	if (len > cap - hl)
		return 0;
	memcpy(buf, line, hl);
	memcpy(buf + hl, text, len);
	return hl + len;
}

#define COSIG_BUF (FWC_NOTE_COSIGNED_TEXT_MAX + 48)

int fwc_note_sig_timestamp(uint64_t *t, const struct fwc_note_sig *s)
{
	uint8_t head[12];
	size_t n = 0;

	if (t == NULL || s == NULL || s->b64 == NULL)
		return FWC_ERR_ARG;
	if (s->sig_len != 8 + FWC_SIG_LEN || s->b64_len < 16)
		return FWC_ERR_TYPE;
	/* Key id and timestamp are the first 12 bytes: 16 whole base64 characters. */
	if (fwc_base64_decode(head, sizeof(head), &n, s->b64, 16, NULL) < 0 || n != 12)
		return FWC_ERR_MALFORMED;
	*t = get_be64(head + FWC_NOTE_KEYID_LEN);
	return FWC_OK;
}

/* Verify one signature line against its verifier. *ts gets the cosignature time. */
static int verify_line(uint64_t *ts, const struct fwc_note *n, const struct fwc_note_sig *s,
                       const struct fwc_note_vkey *v, struct fwc_errinfo *ei)
{
	uint8_t raw[FWC_NOTE_KEYID_LEN + 8 + FWC_SIG_LEN];
	struct fwc_pubkey pk;
	size_t rawlen = 0, off = (size_t)(s->line - n->text);
	size_t want = v->type == FWC_NOTE_SIG_COSIG_V1 ? 8 + FWC_SIG_LEN : FWC_SIG_LEN;
	int rc;

	if (s->sig_len != want)
		return fwc_fail(
		    ei, off, FWC_ERR_BADSIG,
		    "signature by %.*s+%02x%02x%02x%02x has %zu bytes, its type needs %zu",
		    (int)v->name_len, v->name, v->keyid[0], v->keyid[1], v->keyid[2], v->keyid[3],
		    s->sig_len, want);
	if ((rc = fwc_base64_decode(raw, sizeof(raw), &rawlen, s->b64, s->b64_len, NULL)) < 0)
		return rc;
	pk.alg = FWC_ALG_ED25519;
	memcpy(pk.key, v->pubkey, 32);
	if (v->type == FWC_NOTE_SIG_ED25519) {
		rc = fwc_verify(&pk, raw + FWC_NOTE_KEYID_LEN, (const uint8_t *)n->text,
		                n->text_len);
		*ts = 0;
	} else {
		uint8_t msg[COSIG_BUF];
		uint64_t t = get_be64(raw + FWC_NOTE_KEYID_LEN);
		size_t ml;

		if (t > FWC_NOTE_TIMESTAMP_MAX)
			return fwc_fail(ei, off, FWC_ERR_BADSIG,
			                "cosignature by %.*s has a timestamp above 2^63-1",
			                (int)v->name_len, v->name);
		ml = cosig_message(msg, sizeof(msg), t, n->text, n->text_len);
		if (ml == 0)
			return fwc_fail(ei, off, FWC_ERR_TOO_LARGE,
			                "cosigned text has %zu bytes, more than %d", n->text_len,
			                FWC_NOTE_COSIGNED_TEXT_MAX);
		rc = fwc_verify(&pk, raw + FWC_NOTE_KEYID_LEN + 8, msg, ml);
		*ts = t;
	}
	if (rc == FWC_ERR_BADSIG)
		return fwc_fail(ei, off, FWC_ERR_BADSIG,
		                "signature by known key %.*s+%02x%02x%02x%02x does not verify",
		                (int)v->name_len, v->name, v->keyid[0], v->keyid[1], v->keyid[2],
		                v->keyid[3]);
	return rc;
}

int fwc_note_verify(struct fwc_note_check *res, const struct fwc_note *n,
                    const struct fwc_note_vkey *verifiers, size_t nv, struct fwc_errinfo *ei)
{
	struct fwc_note_check tmp[FWC_NOTE_MAX_VERIFIERS];
	int rc;

	if (n == NULL || (verifiers == NULL && nv != 0) || nv > FWC_NOTE_MAX_VERIFIERS ||
	    n->nsigs > FWC_NOTE_MAX_SIGS)
		return FWC_ERR_ARG;
	for (size_t i = 0; i < nv; i++) {
		if (!type_supported(verifiers[i].type) || verifiers[i].name_len == 0 ||
		    verifiers[i].name_len > FWC_NOTE_NAME_MAX)
			return FWC_ERR_ARG;
		for (size_t j = i + 1; j < nv; j++)
			if (verifiers[i].name_len == verifiers[j].name_len &&
			    memcmp(verifiers[i].name, verifiers[j].name, verifiers[i].name_len) ==
			        0 &&
			    memcmp(verifiers[i].keyid, verifiers[j].keyid, FWC_NOTE_KEYID_LEN) == 0)
				return fwc_fail(ei, 0, FWC_ERR_DUPLICATE,
				                "verifiers %zu and %zu share name %s and key id", i,
				                j, verifiers[i].name);
	}
	memset(tmp, 0, sizeof(tmp));
	for (size_t k = 0; k < n->nsigs; k++) {
		const struct fwc_note_sig *s = &n->sigs[k];

		for (size_t i = 0; i < nv; i++) {
			const struct fwc_note_vkey *v = &verifiers[i];
			uint64_t t = 0;

			if (v->name_len != s->name_len ||
			    memcmp(v->name, s->name, s->name_len) != 0 ||
			    memcmp(v->keyid, s->keyid, FWC_NOTE_KEYID_LEN) != 0)
				continue;
			if ((rc = verify_line(&t, n, s, v, ei)) < 0)
				return rc;
			if (!tmp[i].valid || t > tmp[i].timestamp) {
				tmp[i].timestamp = t;
				tmp[i].sig_index = k;
			}
			tmp[i].valid = 1;
			break; /* names and ids are unique among the verifiers */
		}
	}
	if (res != NULL && nv > 0)
		memcpy(res, tmp, nv * sizeof(tmp[0]));
	return FWC_OK;
}

int fwc_note_verify_quorum(struct fwc_note_check *res, size_t *nvalid, const struct fwc_note *n,
                           const struct fwc_note_vkey *verifiers, size_t nv, size_t quorum,
                           struct fwc_errinfo *ei)
{
	struct fwc_note_check tmp[FWC_NOTE_MAX_VERIFIERS];
	size_t count = 0;
	int rc;

	/* A quorum of zero would accept a note no trusted key signed, which the spec forbids. */
	if (quorum == 0 || quorum > nv || nv > FWC_NOTE_MAX_VERIFIERS)
		return FWC_ERR_ARG;
	if ((rc = fwc_note_verify(tmp, n, verifiers, nv, ei)) < 0)
		return rc;
	for (size_t i = 0; i < nv; i++)
		count += tmp[i].valid ? 1u : 0u;
	if (count < quorum)
		return fwc_fail(ei, 0, FWC_ERR_QUORUM,
		                "%zu of %zu trusted keys signed the note; %zu required", count, nv,
		                quorum);
	if (res != NULL)
		memcpy(res, tmp, nv * sizeof(tmp[0]));
	if (nvalid != NULL)
		*nvalid = count;
	return FWC_OK;
}

/* ---- signing ----------------------------------------------------------------------------- */

#define SIG_LINE_MAX (EM_DASH_SP_LEN + FWC_NOTE_NAME_MAX + 1 + FWC_BASE64_LEN(76) + 2)

/* Build "— name base64(keyid || [time] || sig)\n" for text[0..len) into line. */
static int sig_line(char *line, size_t *ll, uint8_t keyid[FWC_NOTE_KEYID_LEN], const char *text,
                    size_t len, const struct fwc_note_signer *s)
{
	struct fwc_pubkey pk;
	uint8_t raw[FWC_NOTE_KEYID_LEN + 8 + FWC_SIG_LEN];
	size_t rawlen, o, bl = 0;
	int rc;

	if ((rc = fwc_key_public(&pk, s->sk)) < 0)
		return rc;
	if ((rc = fwc_note_keyid(raw, s->name, s->name_len, s->type, pk.key, 32)) < 0)
		return rc;
	memcpy(keyid, raw, FWC_NOTE_KEYID_LEN);
	if (s->type == FWC_NOTE_SIG_ED25519) {
		rc = fwc_sign(raw + FWC_NOTE_KEYID_LEN, s->sk, (const uint8_t *)text, len);
		rawlen = FWC_NOTE_KEYID_LEN + FWC_SIG_LEN;
	} else {
		uint8_t msg[COSIG_BUF];
		size_t ml = cosig_message(msg, sizeof(msg), s->timestamp, text, len);

		if (ml == 0)
			return FWC_ERR_TOO_LARGE;
		put_be64(raw + FWC_NOTE_KEYID_LEN, s->timestamp);
		rc = fwc_sign(raw + FWC_NOTE_KEYID_LEN + 8, s->sk, msg, ml);
		rawlen = sizeof(raw);
	}
	if (rc < 0)
		return rc;
	memcpy(line, em_dash_sp, EM_DASH_SP_LEN);
	o = EM_DASH_SP_LEN;
	memcpy(line + o, s->name, s->name_len);
	o += s->name_len;
	line[o++] = ' ';
	if ((rc = fwc_base64_encode(line + o, SIG_LINE_MAX - o, &bl, raw, rawlen)) < 0)
		return rc;
	o += bl;
	line[o++] = '\n';
	*ll = o;
	return FWC_OK;
}

static int signer_check(const struct fwc_note_signer *s, const char *text, size_t len)
{
	struct fwc_checkpoint cp;
	int rc;

	if (s == NULL || s->sk == NULL || (s->name == NULL && s->name_len != 0))
		return FWC_ERR_ARG;
	if ((rc = name_check(s->name, s->name_len, 0, NULL)) < 0)
		return rc;
	if (!type_supported(s->type))
		return FWC_ERR_UNSUPPORTED;
	if (s->sk->alg != FWC_ALG_ED25519)
		return FWC_ERR_KEY;
	if (s->type == FWC_NOTE_SIG_COSIG_V1) {
		if (s->timestamp > FWC_NOTE_TIMESTAMP_MAX)
			return FWC_ERR_RANGE;
		/* cosignature/v1 is defined over checkpoints only. */
		if ((rc = fwc_checkpoint_parse(&cp, text, len, NULL)) < 0)
			return rc;
	}
	return FWC_OK;
}

int fwc_note_sign_text(char *out, size_t outcap, size_t *outlen, const char *text, size_t len,
                       const struct fwc_note_signer *s)
{
	char line[SIG_LINE_MAX];
	uint8_t keyid[FWC_NOTE_KEYID_LEN];
	size_t ll = 0, total;
	int rc;

	if (out == NULL || (text == NULL && len != 0))
		return FWC_ERR_ARG;
	if (len == 0 || text[len - 1] != '\n')
		return FWC_ERR_MALFORMED;
	if ((rc = text_check(text, len, 0, 0, NULL)) < 0)
		return rc;
	if ((rc = signer_check(s, text, len)) < 0)
		return rc;
	if ((rc = sig_line(line, &ll, keyid, text, len, s)) < 0)
		return rc;
	total = len + 1 + ll;
	if (total > FWC_NOTE_MAX_LEN)
		return FWC_ERR_TOO_LARGE;
	if (outcap < total + 1)
		return FWC_ERR_BUFSIZE;
	memcpy(out, text, len);
	out[len] = '\n';
	memcpy(out + len + 1, line, ll);
	out[total] = '\0';
	if (outlen != NULL)
		*outlen = total;
	return FWC_OK;
}

int fwc_note_sign(char *out, size_t outcap, size_t *outlen, const struct fwc_note *n,
                  const struct fwc_note_signer *s)
{
	char line[SIG_LINE_MAX];
	uint8_t keyid[FWC_NOTE_KEYID_LEN];
	size_t ll = 0, total, o, kept = 0;
	int rc;

	if (out == NULL || n == NULL || n->text == NULL || n->nsigs > FWC_NOTE_MAX_SIGS)
		return FWC_ERR_ARG;
	if ((rc = signer_check(s, n->text, n->text_len)) < 0)
		return rc;
	if ((rc = sig_line(line, &ll, keyid, n->text, n->text_len, s)) < 0)
		return rc;
	total = n->text_len + 1 + ll;
	for (size_t k = 0; k < n->nsigs; k++) {
		const struct fwc_note_sig *g = &n->sigs[k];

		if (g->name_len == s->name_len && memcmp(g->name, s->name, s->name_len) == 0 &&
		    memcmp(g->keyid, keyid, FWC_NOTE_KEYID_LEN) == 0)
			continue;
		total += g->line_len + 1;
		kept++;
	}
	if (total > FWC_NOTE_MAX_LEN || kept + 1 > FWC_NOTE_MAX_SIGS)
		return FWC_ERR_TOO_LARGE;
	if (outcap < total + 1)
		return FWC_ERR_BUFSIZE;
	memcpy(out, n->text, n->text_len);
	o = n->text_len;
	out[o++] = '\n';
	for (size_t k = 0; k < n->nsigs; k++) {
		const struct fwc_note_sig *g = &n->sigs[k];

		if (g->name_len == s->name_len && memcmp(g->name, s->name, s->name_len) == 0 &&
		    memcmp(g->keyid, keyid, FWC_NOTE_KEYID_LEN) == 0)
			continue;
		memcpy(out + o, g->line, g->line_len);
		o += g->line_len;
		out[o++] = '\n';
	}
	memcpy(out + o, line, ll);
	o += ll;
	out[o] = '\0';
	if (outlen != NULL)
		*outlen = o;
	return FWC_OK;
}

/* ---- checkpoints ------------------------------------------------------------------------- */

int fwc_checkpoint_parse(struct fwc_checkpoint *cp, const char *text, size_t len,
                         struct fwc_errinfo *ei)
{
	struct fwc_checkpoint tmp;
	struct fwc_note_line lines[3];
	size_t p = 0, nlines = 0, rootlen = 0;
	uint64_t size = 0;
	int rc;

	if (cp == NULL || (text == NULL && len != 0))
		return FWC_ERR_ARG;
	if (len > FWC_NOTE_MAX_LEN)
		return fwc_fail(ei, 0, FWC_ERR_TOO_LARGE, "checkpoint text too large");
	if ((rc = text_check(text, len, 0, 0, ei)) < 0)
		return rc;
	if (len == 0 || text[len - 1] != '\n')
		return fwc_fail(ei, len, FWC_ERR_MALFORMED,
		                "checkpoint text does not end with a newline");
	memset(&tmp, 0, sizeof(tmp));
	while (p < len) {
		const char *eol = memchr(text + p, '\n', len - p);
		size_t ll = (size_t)(eol - (text + p));

		if (ll == 0)
			return fwc_fail(ei, p, FWC_ERR_MALFORMED, "checkpoint line %zu is empty",
			                nlines + 1);
		if (nlines < 3) {
			lines[nlines].ptr = text + p;
			lines[nlines].len = ll;
		} else {
			if (tmp.n_ext >= FWC_CHECKPOINT_MAX_EXT)
				return fwc_fail(ei, p, FWC_ERR_TOO_LARGE,
				                "checkpoint has more than %d extension lines",
				                FWC_CHECKPOINT_MAX_EXT);
			tmp.ext[tmp.n_ext].ptr = text + p;
			tmp.ext[tmp.n_ext].len = ll;
			tmp.n_ext++;
		}
		nlines++;
		p += ll + 1;
	}
	if (nlines < 3)
		return fwc_fail(ei, len, FWC_ERR_MALFORMED,
		                "checkpoint has %zu lines; origin, size and root are required",
		                nlines);
	/* Tree size: ASCII decimal, no sign, no leading zero (except "0" itself). */
	p = (size_t)(lines[1].ptr - text);
	if (lines[1].len > 1 && lines[1].ptr[0] == '0')
		return fwc_fail(ei, p, FWC_ERR_MALFORMED, "tree size has a leading zero");
	for (size_t i = 0; i < lines[1].len; i++) {
		char c = lines[1].ptr[i];

		if (c < '0' || c > '9')
			return fwc_fail(ei, p + i, FWC_ERR_MALFORMED,
			                "tree size is not a decimal number");
		if (size > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
			return fwc_fail(ei, p, FWC_ERR_RANGE, "tree size exceeds 2^64-1");
		size = size * 10 + (uint64_t)(c - '0');
	}
	p = (size_t)(lines[2].ptr - text);
	rc = fwc_base64_decode(NULL, 0, &rootlen, lines[2].ptr, lines[2].len, ei);
	if (rc < 0) {
		if (ei != NULL)
			ei->offset += p;
		return rc;
	}
	if (rootlen != 32)
		return fwc_fail(ei, p, FWC_ERR_MALFORMED, "root hash has %zu bytes, not 32",
		                rootlen);
	if ((rc = fwc_base64_decode(tmp.root, 32, &rootlen, lines[2].ptr, lines[2].len, NULL)) < 0)
		return rc;
	tmp.origin = lines[0].ptr;
	tmp.origin_len = lines[0].len;
	tmp.size = size;
	*cp = tmp;
	return FWC_OK;
}

int fwc_checkpoint_format(char *out, size_t outcap, size_t *outlen, const char *origin,
                          size_t origin_len, uint64_t size, const uint8_t root[32],
                          const struct fwc_note_line *ext, size_t n_ext)
{
	char num[24], b64[48];
	size_t total, o = 0, bl = 0, nl = 0;
	int rc;

	if (out == NULL || origin == NULL || root == NULL || (ext == NULL && n_ext != 0))
		return FWC_ERR_ARG;
	if (n_ext > FWC_CHECKPOINT_MAX_EXT)
		return FWC_ERR_TOO_LARGE;
	if (origin_len == 0 || text_check(origin, origin_len, 0, 1, NULL) < 0)
		return FWC_ERR_MALFORMED;
	if ((rc = fwc_dec_encode(num, sizeof(num), &nl, size)) < 0)
		return rc;
	if ((rc = fwc_base64_encode(b64, sizeof(b64), &bl, root, 32)) < 0)
		return rc;
	total = origin_len + 1 + nl + 1 + bl + 1;
	for (size_t i = 0; i < n_ext; i++) {
		if (ext[i].ptr == NULL || ext[i].len == 0 ||
		    text_check(ext[i].ptr, ext[i].len, 0, 1, NULL) < 0)
			return FWC_ERR_MALFORMED;
		total += ext[i].len + 1;
	}
	if (total > FWC_NOTE_MAX_LEN)
		return FWC_ERR_TOO_LARGE;
	if (outcap < total + 1)
		return FWC_ERR_BUFSIZE;
	memcpy(out + o, origin, origin_len);
	o += origin_len;
	out[o++] = '\n';
	memcpy(out + o, num, nl);
	o += nl;
	out[o++] = '\n';
	memcpy(out + o, b64, bl);
	o += bl;
	out[o++] = '\n';
	for (size_t i = 0; i < n_ext; i++) {
		memcpy(out + o, ext[i].ptr, ext[i].len);
		o += ext[i].len;
		out[o++] = '\n';
	}
	out[o] = '\0';
	if (outlen != NULL)
		*outlen = o;
	return FWC_OK;
}

int fwc_checkpoint_ext_find(const char **value, size_t *value_len, const struct fwc_checkpoint *cp,
                            const char *key, size_t key_len)
{
	if (value == NULL || value_len == NULL || cp == NULL || key == NULL || key_len == 0 ||
	    cp->n_ext > FWC_CHECKPOINT_MAX_EXT)
		return FWC_ERR_ARG;
	for (size_t i = 0; i < cp->n_ext; i++) {
		const struct fwc_note_line *l = &cp->ext[i];

		if (l->len > key_len && memcmp(l->ptr, key, key_len) == 0 &&
		    l->ptr[key_len] == ' ') {
			*value = l->ptr + key_len + 1;
			*value_len = l->len - key_len - 1;
			return FWC_OK;
		}
	}
	return FWC_ERR_NOT_FOUND;
}
