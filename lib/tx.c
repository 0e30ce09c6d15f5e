/* The signed transaction envelope: body codec, signing, verification, transaction id.
 *
 * A transaction is {1: body as a byte string, 2: signature}; the body is a CBOR map with small
 * integer keys (docs/formats/transaction.md). Keeping the body as a byte string means the
 * signature is checked over exactly the bytes that were signed and the node can store and hash
 * the body without re-encoding it. Unlike manifests, every unknown body field is critical: a
 * transaction changes ledger state, so a node that does not understand a field must not apply
 * it; new fields come with a new format version. The transaction id hashes the whole signed
 * encoding, which the strict decoder makes unique per (body, signature). */
#include "fwchain/tx.h"

#include "fwchain/sha256.h"

#include <string.h>

enum {
	K_VERSION = 0,
	K_TYPE = 1,
	K_CHAIN = 2,
	K_SENDER = 3,
	K_NONCE = 4,
	K_TIME = 5,
	K_PAYLOAD = 6,
	K_COUNT = 7,
};
static const char *const field_names[K_COUNT] = {"version", "type", "chain id", "sender",
                                                 "nonce",   "time", "payload"};

static const char *const type_names[FWC_TX_TYPE_MAX + 1] = {
    NULL,
    "org-register",
    "member-add",
    "member-remove",
    "keyset-register",
    "keyset-rotate",
    "key-revoke",
    "product-register",
    "device-register",
    "release",
    "release-revoke",
    "device-event",
    "config-update",
    "licence-issue",
    "licence-revoke",
    "rollout-control",
    "postpone",
    "validator-set",
};

const char *fwc_tx_type_name(int type)
{
	return type >= 1 && type <= FWC_TX_TYPE_MAX ? type_names[type] : NULL;
}

int fwc_tx_encode_body(uint8_t *out, size_t outcap, size_t *outlen, const struct fwc_tx *tx,
                       struct fwc_errinfo *ei)
{
	uint8_t sender[FWC_PUBKEY_BIN_LEN];
	struct fwc_cbor_enc e;

	if (tx == NULL || outlen == NULL || (out == NULL && outcap != 0))
		return FWC_ERR_ARG;
	if (fwc_tx_type_name((int)tx->type) == NULL)
		return fwc_fail(ei, 0, FWC_ERR_UNSUPPORTED, "tx: unknown type %u", tx->type);
	if (tx->chain_id.len == 0 || tx->chain_id.p == NULL)
		return fwc_fail(ei, 0, FWC_ERR_RANGE, "tx: empty chain id");
	if (tx->chain_id.len > FWC_TX_CHAIN_ID_MAX)
		return fwc_fail(ei, 0, FWC_ERR_TOO_LARGE, "tx: chain id of %zu bytes (max %d)",
		                tx->chain_id.len, FWC_TX_CHAIN_ID_MAX);
	if (!fwc_utf8_valid((const uint8_t *)tx->chain_id.p, tx->chain_id.len, NULL))
		return fwc_fail(ei, 0, FWC_ERR_MALFORMED, "tx: chain id is not UTF-8");
	if (tx->payload.len > FWC_TX_PAYLOAD_MAX || (tx->payload.p == NULL && tx->payload.len))
		return fwc_fail(ei, 0, FWC_ERR_TOO_LARGE, "tx: payload of %zu bytes (max %d)",
		                tx->payload.len, FWC_TX_PAYLOAD_MAX);
	if (fwc_pubkey_check(&tx->sender) != FWC_OK ||
	    fwc_pubkey_to_bin(sender, &tx->sender) != FWC_OK)
		return fwc_fail(ei, 0, FWC_ERR_KEY, "tx: sender key is not valid");
	fwc_cbor_enc_init(&e, out, outcap);
	fwc_cbor_put_map(&e, K_COUNT);
	fwc_cbor_put_uint(&e, K_VERSION);
	fwc_cbor_put_uint(&e, FWC_TX_VERSION);
	fwc_cbor_put_uint(&e, K_TYPE);
	fwc_cbor_put_uint(&e, tx->type);
	fwc_cbor_put_uint(&e, K_CHAIN);
	fwc_cbor_put_text(&e, tx->chain_id.p, tx->chain_id.len);
	fwc_cbor_put_uint(&e, K_SENDER);
	fwc_cbor_put_bytes(&e, sender, sizeof(sender));
	fwc_cbor_put_uint(&e, K_NONCE);
	fwc_cbor_put_uint(&e, tx->nonce);
	fwc_cbor_put_uint(&e, K_TIME);
	fwc_cbor_put_uint(&e, tx->time);
	fwc_cbor_put_uint(&e, K_PAYLOAD);
	fwc_cbor_put_bytes(&e, tx->payload.p, tx->payload.len);
	return fwc_cbor_enc_finish(&e, outlen);
}

int fwc_tx_decode_body(struct fwc_tx *tx, const uint8_t *buf, size_t len, struct fwc_errinfo *ei)
{
	struct fwc_cbor_dec d;
	struct fwc_tx t;
	uint64_t n, key, v;
	unsigned seen = 0;
	int rc;

	if (tx == NULL || (buf == NULL && len != 0))
		return FWC_ERR_ARG;
	if (len > FWC_TX_BODY_MAX)
		return fwc_fail(ei, 0, FWC_ERR_TOO_LARGE, "tx: body of %zu bytes (max %d)", len,
		                FWC_TX_BODY_MAX);
	memset(&t, 0, sizeof(t));
	fwc_cbor_dec_init(&d, buf, len, FWC_TX_PAYLOAD_MAX, ei);
	if ((rc = fwc_cbor_get_map(&d, &n)) != FWC_OK)
		return rc;
	for (uint64_t i = 0; i < n; i++) {
		size_t koff = d.pos, off;

		if ((rc = fwc_cbor_get_uint(&d, &key)) != FWC_OK)
			return rc;
		off = d.pos;
		switch (key) {
		case K_VERSION:
			if ((rc = fwc_cbor_get_uint(&d, &v)) != FWC_OK)
				return rc;
			if (v != FWC_TX_VERSION)
				return fwc_fail(ei, off, FWC_ERR_UNSUPPORTED,
				                "tx: format version %llu (this reader knows %d)",
				                (unsigned long long)v, FWC_TX_VERSION);
			break;
		case K_TYPE:
			if ((rc = fwc_cbor_get_uint(&d, &v)) != FWC_OK)
				return rc;
			if (v == 0 || v > FWC_TX_TYPE_MAX)
				return fwc_fail(ei, off, FWC_ERR_UNSUPPORTED,
				                "tx: unknown type %llu", (unsigned long long)v);
			t.type = (uint32_t)v;
			break;
		case K_CHAIN:
			if ((rc = fwc_cbor_get_text(&d, &t.chain_id.p, &t.chain_id.len)) != FWC_OK)
				return rc;
			if (t.chain_id.len == 0)
				return fwc_fail(ei, off, FWC_ERR_RANGE, "tx: empty chain id");
			if (t.chain_id.len > FWC_TX_CHAIN_ID_MAX)
				return fwc_fail(ei, off, FWC_ERR_TOO_LARGE,
				                "tx: chain id of %zu bytes (max %d)",
				                t.chain_id.len, FWC_TX_CHAIN_ID_MAX);
			break;
		case K_SENDER: {
			const uint8_t *p;
			size_t plen;
			struct fwc_errinfo kei;

			if ((rc = fwc_cbor_get_bytes(&d, &p, &plen)) != FWC_OK)
				return rc;
			if (plen != FWC_PUBKEY_BIN_LEN)
				return fwc_fail(ei, off, FWC_ERR_MALFORMED,
				                "tx: sender key is %zu bytes (expected 33)", plen);
			kei.msg[0] = '\0';
			if ((rc = fwc_pubkey_from_bin(&t.sender, p, plen, &kei)) != FWC_OK)
				return fwc_fail(ei, off, rc, "tx: sender key: %s", kei.msg);
			break;
		}
		case K_NONCE:
			rc = fwc_cbor_get_uint(&d, &t.nonce);
			break;
		case K_TIME:
			rc = fwc_cbor_get_uint(&d, &t.time);
			break;
		case K_PAYLOAD:
			rc = fwc_cbor_get_bytes(&d, &t.payload.p, &t.payload.len);
			break;
		default:
			return fwc_fail(ei, koff, FWC_ERR_UNKNOWN_FIELD, "tx: unknown field %llu",
			                (unsigned long long)key);
		}
		if (rc != FWC_OK)
			return rc;
		seen |= 1u << key;
	}
	if ((rc = fwc_cbor_finish(&d)) != FWC_OK)
		return rc;
	for (int k = 0; k < K_COUNT; k++)
		if (!(seen & (1u << k)))
			return fwc_fail(ei, 0, FWC_ERR_MISSING_FIELD,
			                "tx: required field %d (%s) missing", k, field_names[k]);
	*tx = t;
	return FWC_OK;
}

int fwc_tx_digest(uint8_t digest[32], const uint8_t *body, size_t body_len)
{
	return fwc_tagged_hash(digest, FWC_TAG_TX, body, body_len);
}

int fwc_tx_sign(uint8_t *out, size_t outcap, size_t *outlen, const uint8_t *body, size_t body_len,
                const struct fwc_seckey *sk, const uint8_t aux[32], struct fwc_errinfo *ei)
{
	struct fwc_tx tx;
	struct fwc_pubkey pk;
	uint8_t digest[32], sig[FWC_SIG_LEN];
	int rc;

	if (outlen == NULL || sk == NULL || (out == NULL && outcap != 0) ||
	    (body == NULL && body_len != 0))
		return FWC_ERR_ARG;
	if ((rc = fwc_tx_decode_body(&tx, body, body_len, ei)) != FWC_OK)
		return rc;
	if ((rc = fwc_key_public(&pk, sk)) != FWC_OK)
		return rc;
	if (!fwc_pubkey_equal(&pk, &tx.sender))
		return fwc_fail(ei, 0, FWC_ERR_KEY, "tx: signing key is not the body's sender");
	if ((rc = fwc_tx_digest(digest, body, body_len)) != FWC_OK)
		return rc;
	if (sk->alg == FWC_ALG_BIP340 && aux != NULL)
		rc = fwc_sign_bip340_aux(sig, sk, aux, digest, sizeof(digest));
	else
		rc = fwc_sign(sig, sk, digest, sizeof(digest));
	if (rc != FWC_OK)
		return rc;
	return fwc_tx_encode_signed(out, outcap, outlen, body, body_len, sig);
}

int fwc_tx_encode_signed(uint8_t *out, size_t outcap, size_t *outlen, const uint8_t *body,
                         size_t body_len, const uint8_t sig[FWC_SIG_LEN])
{
	struct fwc_cbor_enc e;

	if (outlen == NULL || sig == NULL || (out == NULL && outcap != 0) ||
	    (body == NULL && body_len != 0))
		return FWC_ERR_ARG;
	fwc_cbor_enc_init(&e, out, outcap);
	fwc_cbor_put_map(&e, 2);
	fwc_cbor_put_uint(&e, 1);
	fwc_cbor_put_bytes(&e, body, body_len);
	fwc_cbor_put_uint(&e, 2);
	fwc_cbor_put_bytes(&e, sig, FWC_SIG_LEN);
	return fwc_cbor_enc_finish(&e, outlen);
}

int fwc_tx_decode(struct fwc_signed_tx *stx, const uint8_t *buf, size_t len, struct fwc_errinfo *ei)
{
	struct fwc_cbor_dec d;
	struct fwc_signed_tx t;
	uint64_t n, key;
	size_t body_off = 0, slen;
	unsigned seen = 0;
	int rc;

	if (stx == NULL || (buf == NULL && len != 0))
		return FWC_ERR_ARG;
	if (len > FWC_TX_MAX)
		return fwc_fail(ei, 0, FWC_ERR_TOO_LARGE, "tx: %zu bytes (max %d)", len,
		                FWC_TX_MAX);
	memset(&t, 0, sizeof(t));
	fwc_cbor_dec_init(&d, buf, len, FWC_TX_BODY_MAX, ei);
	if ((rc = fwc_cbor_get_map(&d, &n)) != FWC_OK)
		return rc;
	for (uint64_t i = 0; i < n; i++) {
		size_t koff = d.pos, off;

		if ((rc = fwc_cbor_get_uint(&d, &key)) != FWC_OK)
			return rc;
		off = d.pos;
		if (key == 1) {
			if ((rc = fwc_cbor_get_bytes(&d, &t.body, &t.body_len)) != FWC_OK)
				return rc;
			body_off = (size_t)(t.body - buf);
		} else if (key == 2) {
			if ((rc = fwc_cbor_get_bytes(&d, &t.sig, &slen)) != FWC_OK)
				return rc;
			if (slen != FWC_SIG_LEN)
				return fwc_fail(ei, off, FWC_ERR_MALFORMED,
				                "tx: signature is %zu bytes (expected 64)", slen);
		} else {
			return fwc_fail(ei, koff, FWC_ERR_UNKNOWN_FIELD, "tx: unknown field %llu",
			                (unsigned long long)key);
		}
		seen |= 1u << key;
	}
	if ((rc = fwc_cbor_finish(&d)) != FWC_OK)
		return rc;
	if (seen != 6)
		return fwc_fail(ei, 0, FWC_ERR_MISSING_FIELD, "tx: field %d (%s) missing",
		                seen & 2 ? 2 : 1, seen & 2 ? "signature" : "body");
	if ((rc = fwc_tx_decode_body(&t.tx, t.body, t.body_len, ei)) != FWC_OK) {
		if (ei != NULL)
			ei->offset += body_off;
		return rc;
	}
	*stx = t;
	return FWC_OK;
}

int fwc_tx_verify(const struct fwc_signed_tx *stx, struct fwc_errinfo *ei)
{
	uint8_t digest[32];
	int rc;

	if (stx == NULL || stx->sig == NULL)
		return FWC_ERR_ARG;
	if ((rc = fwc_tx_digest(digest, stx->body, stx->body_len)) != FWC_OK)
		return rc;
	rc = fwc_verify(&stx->tx.sender, stx->sig, digest, sizeof(digest));
	if (rc == FWC_ERR_BADSIG)
		return fwc_fail(ei, 0, FWC_ERR_BADSIG,
		                "tx: signature does not verify under the sender key");
	return rc;
}

int fwc_tx_id(uint8_t id[FWC_TX_ID_LEN], const uint8_t *buf, size_t len)
{
	if (id == NULL || (buf == NULL && len != 0))
		return FWC_ERR_ARG;
	return fwc_sha256(id, buf, len);
}
