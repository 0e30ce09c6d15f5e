/* Key sets: the k-of-n threshold rule and the key set's canonical CBOR form.
 *
 * The threshold check counts keys, not signatures: a per-key "counted" flag makes a key that
 * signed twice count once, and a key is only marked after one of its signatures verified, so a
 * bad signature followed by a good one from the same key still counts. Signatures of a key
 * already counted are not verified again (no work an attacker can multiply). The refusal
 * message lists why signatures did not count, because "threshold not met" alone sends an
 * operator hunting. The codec stores keys sorted by their binary form so a set has exactly one
 * encoding (docs/formats/keyset.md). */
#include "fwchain/keyset.h"

#include "fwchain/cbor.h"
#include "fwchain/hex.h"

#include <string.h>

int fwc_keyset_find(const struct fwc_keyset *ks, const struct fwc_pubkey *pk)
{
	if (ks == NULL || pk == NULL)
		return -1;
	for (size_t i = 0; i < ks->n && i < FWC_KEYSET_MAX; i++)
		if (fwc_pubkey_equal(&ks->keys[i], pk))
			return (int)i;
	return -1;
}

/* Append the NUL-terminated parts to a bounded message, as one snprintf of their concatenation
 * would: what fits is written and NUL-terminated, and once something did not fit the message
 * counts as full (*used == cap) and later notes are dropped. Written without the C library's
 * formatting so that the device agent builds this file freestanding. */
static void note(char *buf, size_t cap, size_t *used, const char *const *parts, size_t nparts)
{
	size_t n = 0, room;

	if (*used >= cap)
		return;
	room = cap - *used;
	for (size_t i = 0; i < nparts; i++)
		for (const char *p = parts[i]; *p != '\0'; p++, n++)
			if (n < room - 1)
				buf[*used + n] = *p;
	buf[*used + (n < room - 1 ? n : room - 1)] = '\0';
	*used += n < room ? n : room;
}

int fwc_keyset_verify_threshold(const struct fwc_keyset *ks, const uint8_t digest[32],
                                const struct fwc_keyset_sig *sigs, size_t n_sigs, unsigned *valid,
                                struct fwc_errinfo *ei)
{
	uint8_t counted[FWC_KEYSET_MAX] = {0};
	unsigned count = 0;
	char why[128];
	size_t used = 0;

	if (ks == NULL || digest == NULL || (sigs == NULL && n_sigs != 0) || ks->n == 0 ||
	    ks->n > FWC_KEYSET_MAX || ks->threshold == 0 || ks->threshold > ks->n)
		return FWC_ERR_ARG;
	why[0] = '\0';
	for (size_t i = 0; i < n_sigs; i++) {
		struct fwc_pubkey pk;
		char who[24];
		const char *reason = NULL;
		int idx = -1;

		if (sigs[i].pubkey == NULL || sigs[i].sig == NULL)
			return FWC_ERR_ARG;
		if (fwc_pubkey_from_bin(&pk, sigs[i].pubkey, FWC_PUBKEY_BIN_LEN, NULL) == FWC_OK)
			idx = fwc_keyset_find(ks, &pk);
		if (idx < 0) {
			fwc_hex_encode(who, sizeof(who), sigs[i].pubkey, 5);
			reason = "unknown";
		} else {
			fwc_dec_encode(who, sizeof(who), NULL, (uint64_t)idx);
			if (ks->revoked[idx])
				reason = "revoked";
			else if (counted[idx])
				reason = "signed twice";
			else if (fwc_verify(&pk, sigs[i].sig, digest, 32) != FWC_OK)
				reason = "bad signature";
		}
		if (reason != NULL) {
			const char *const parts[] = {used ? ", key " : "key ", who, " ", reason};

			note(why, sizeof(why), &used, parts, 4);
			continue;
		}
		counted[idx] = 1;
		count++;
	}
	if (valid != NULL)
		*valid = count;
	if (count >= ks->threshold)
		return FWC_OK;
	return fwc_fail(ei, 0, FWC_ERR_THRESHOLD, "%u of %zu required, %u valid%s%s%s",
	                ks->threshold, ks->n, count, used ? " (" : "", why, used ? ")" : "");
}

int fwc_keyset_check(const struct fwc_keyset *ks, struct fwc_errinfo *ei)
{
	if (ks == NULL)
		return FWC_ERR_ARG;
	if (ks->n == 0 || ks->n > FWC_KEYSET_MAX)
		return fwc_fail(ei, 0, FWC_ERR_RANGE, "key set: %zu keys (allowed 1..%d)", ks->n,
		                FWC_KEYSET_MAX);
	if (ks->threshold == 0 || ks->threshold > ks->n)
		return fwc_fail(ei, 0, FWC_ERR_RANGE, "key set: threshold %u (allowed 1..%zu)",
		                ks->threshold, ks->n);
	for (size_t i = 0; i < ks->n; i++) {
		if (fwc_pubkey_check(&ks->keys[i]) != FWC_OK)
			return fwc_fail(ei, 0, FWC_ERR_KEY, "key set: key %zu is not valid", i);
		for (size_t j = 0; j < i; j++)
			if (fwc_pubkey_equal(&ks->keys[i], &ks->keys[j]))
				return fwc_fail(ei, 0, FWC_ERR_DUPLICATE,
				                "key set: keys %zu and %zu are the same", j, i);
	}
	return FWC_OK;
}

int fwc_keyset_encode(uint8_t *out, size_t outcap, size_t *outlen, const struct fwc_keyset *ks)
{
	uint8_t bin[FWC_KEYSET_MAX][FWC_PUBKEY_BIN_LEN];
	size_t order[FWC_KEYSET_MAX];
	size_t n_revoked = 0;
	struct fwc_cbor_enc enc;
	int rc;

	if (outlen == NULL || (out == NULL && outcap != 0))
		return FWC_ERR_ARG;
	rc = fwc_keyset_check(ks, NULL);
	if (rc != FWC_OK)
		return rc;
	/* Insertion sort of indices by binary form: n <= 16. */
	for (size_t i = 0; i < ks->n; i++) {
		size_t j = i;

		fwc_pubkey_to_bin(bin[i], &ks->keys[i]);
		while (j > 0 && memcmp(bin[order[j - 1]], bin[i], FWC_PUBKEY_BIN_LEN) > 0) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
		n_revoked += ks->revoked[i] != 0;
	}
	fwc_cbor_enc_init(&enc, out, outcap);
	fwc_cbor_put_map(&enc, n_revoked ? 4 : 3);
	fwc_cbor_put_uint(&enc, 0);
	fwc_cbor_put_uint(&enc, FWC_KEYSET_VERSION);
	fwc_cbor_put_uint(&enc, 1);
	fwc_cbor_put_uint(&enc, ks->threshold);
	fwc_cbor_put_uint(&enc, 2);
	fwc_cbor_put_array(&enc, ks->n);
	for (size_t i = 0; i < ks->n; i++)
		fwc_cbor_put_bytes(&enc, bin[order[i]], FWC_PUBKEY_BIN_LEN);
	if (n_revoked) {
		fwc_cbor_put_uint(&enc, 3);
		fwc_cbor_put_array(&enc, n_revoked);
		for (size_t i = 0; i < ks->n; i++)
			if (ks->revoked[order[i]])
				fwc_cbor_put_uint(&enc, i);
	}
	return fwc_cbor_enc_finish(&enc, outlen);
}

int fwc_keyset_decode(struct fwc_keyset *ks, const uint8_t *buf, size_t len, struct fwc_errinfo *ei)
{
	struct fwc_cbor_dec d;
	struct fwc_keyset tmp;
	uint64_t n_fields, key, v, n;
	int rc, seen_version = 0, seen_threshold = 0, seen_keys = 0;
	size_t off, koff;

	if (ks == NULL || (buf == NULL && len != 0))
		return FWC_ERR_ARG;
	memset(&tmp, 0, sizeof(tmp));
	fwc_cbor_dec_init(&d, buf, len, FWC_KEYSET_ENC_MAX, ei);
	if ((rc = fwc_cbor_get_map(&d, &n_fields)) != FWC_OK)
		return rc;
	for (uint64_t f = 0; f < n_fields; f++) {
		koff = d.pos;
		if ((rc = fwc_cbor_get_uint(&d, &key)) != FWC_OK)
			return rc;
		off = d.pos;
		switch (key) {
		case 0:
			if ((rc = fwc_cbor_get_uint(&d, &v)) != FWC_OK)
				return rc;
			if (v != FWC_KEYSET_VERSION)
				return fwc_fail(ei, off, FWC_ERR_UNSUPPORTED,
				                "key set: format version %llu (expected %d)",
				                (unsigned long long)v, FWC_KEYSET_VERSION);
			seen_version = 1;
			break;
		case 1:
			if ((rc = fwc_cbor_get_uint(&d, &v)) != FWC_OK)
				return rc;
			if (v == 0 || v > FWC_KEYSET_MAX)
				return fwc_fail(ei, off, FWC_ERR_RANGE,
				                "key set: threshold %llu (allowed 1..%d)",
				                (unsigned long long)v, FWC_KEYSET_MAX);
			tmp.threshold = (unsigned)v;
			seen_threshold = 1;
			break;
		case 2:
			if ((rc = fwc_cbor_get_array(&d, &n)) != FWC_OK)
				return rc;
			if (n == 0 || n > FWC_KEYSET_MAX)
				return fwc_fail(ei, off, FWC_ERR_RANGE,
				                "key set: %llu keys (allowed 1..%d)",
				                (unsigned long long)n, FWC_KEYSET_MAX);
			for (size_t i = 0; i < n; i++) {
				const uint8_t *p;
				size_t plen;

				off = d.pos;
				if ((rc = fwc_cbor_get_bytes(&d, &p, &plen)) != FWC_OK)
					return rc;
				if (plen != FWC_PUBKEY_BIN_LEN)
					return fwc_fail(
					    ei, off, FWC_ERR_MALFORMED,
					    "key set: key %zu is %zu bytes (expected %d)", i, plen,
					    FWC_PUBKEY_BIN_LEN);
				if ((rc = fwc_pubkey_from_bin(&tmp.keys[i], p, plen, NULL)) !=
				    FWC_OK)
					return fwc_fail(ei, off, rc,
					                "key set: key %zu is not valid", i);
				if (i > 0) {
					uint8_t prev[FWC_PUBKEY_BIN_LEN];
					int c;

					fwc_pubkey_to_bin(prev, &tmp.keys[i - 1]);
					c = memcmp(prev, p, FWC_PUBKEY_BIN_LEN);
					if (c == 0)
						return fwc_fail(ei, off, FWC_ERR_DUPLICATE,
						                "key set: key %zu repeats key %zu",
						                i, i - 1);
					if (c > 0)
						return fwc_fail(
						    ei, off, FWC_ERR_UNSORTED,
						    "key set: key %zu sorts before key %zu", i,
						    i - 1);
				}
			}
			tmp.n = (size_t)n;
			seen_keys = 1;
			break;
		case 3: {
			uint64_t prev = 0;

			if (!seen_keys)
				return fwc_fail(ei, off, FWC_ERR_MISSING_FIELD,
				                "key set: field 2 (keys) missing");
			if ((rc = fwc_cbor_get_array(&d, &n)) != FWC_OK)
				return rc;
			if (n == 0 || n > tmp.n)
				return fwc_fail(ei, off, FWC_ERR_RANGE,
				                "key set: %llu revoked indices (allowed 1..%zu)",
				                (unsigned long long)n, tmp.n);
			for (uint64_t i = 0; i < n; i++) {
				off = d.pos;
				if ((rc = fwc_cbor_get_uint(&d, &v)) != FWC_OK)
					return rc;
				if (v >= tmp.n)
					return fwc_fail(ei, off, FWC_ERR_RANGE,
					                "key set: revoked index %llu but %zu keys",
					                (unsigned long long)v, tmp.n);
				if (i > 0 && v <= prev)
					return fwc_fail(ei, off,
					                v == prev ? FWC_ERR_DUPLICATE
					                          : FWC_ERR_UNSORTED,
					                "key set: revoked indices must increase");
				tmp.revoked[v] = 1;
				prev = v;
			}
			break;
		}
		default:
			return fwc_fail(ei, koff, FWC_ERR_UNKNOWN_FIELD,
			                "key set: unknown field %llu", (unsigned long long)key);
		}
	}
	if ((rc = fwc_cbor_finish(&d)) != FWC_OK)
		return rc;
	if (!seen_version || !seen_threshold || !seen_keys)
		return fwc_fail(ei, 0, FWC_ERR_MISSING_FIELD, "key set: field %d missing",
		                !seen_version     ? 0
		                : !seen_threshold ? 1
		                                  : 2);
	if (tmp.threshold > tmp.n)
		return fwc_fail(ei, 0, FWC_ERR_RANGE, "key set: threshold %u above %zu keys",
		                tmp.threshold, tmp.n);
	*ks = tmp;
	return FWC_OK;
}
