/* fwchain — the signed transaction envelope.
 *
 * Every write to the ledger is a transaction: a typed body (type, chain id, sender key, nonce,
 * time, opaque payload) signed by the sender over fwc_tagged_hash(FWC_TAG_TX, body). The
 * payload's contents are defined per type by the node; this module only carries them. The
 * transaction id is SHA-256 of the full encoded signed transaction. Byte-exact format:
 * docs/formats/transaction.md. */
#ifndef FWCHAIN_TX_H
#define FWCHAIN_TX_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/cbor.h"
#include "fwchain/err.h"
#include "fwchain/key.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Transaction types (DESIGN §3). Numbers are part of the wire format and never change. */
enum fwc_tx_type {
	FWC_TX_ORG_REGISTER = 1,     /* register an organisation and its first admin */
	FWC_TX_MEMBER_ADD = 2,       /* add a member key with a role (enum fwc_role) */
	FWC_TX_MEMBER_REMOVE = 3,    /* remove a member (or one of its roles) */
	FWC_TX_KEYSET_REGISTER = 4,  /* register a product's release key set */
	FWC_TX_KEYSET_ROTATE = 5,    /* replace a key set (signed by the root key set) */
	FWC_TX_KEY_REVOKE = 6,       /* revoke one key of a key set */
	FWC_TX_PRODUCT_REGISTER = 7, /* register a product */
	FWC_TX_DEVICE_REGISTER = 8,  /* register a device key with product, groups, region */
	FWC_TX_RELEASE = 9,          /* publish a signed manifest */
	FWC_TX_RELEASE_REVOKE = 10,  /* revoke a release */
	FWC_TX_DEVICE_EVENT = 11,    /* device-signed, sequence-numbered event */
	FWC_TX_CONFIG_UPDATE = 12,   /* configuration update for devices or groups */
	FWC_TX_LICENCE_ISSUE = 13,   /* issue a licence */
	FWC_TX_LICENCE_REVOKE = 14,  /* revoke a licence */
	FWC_TX_ROLLOUT_CONTROL = 15, /* pause / resume / halt a rollout */
	FWC_TX_POSTPONE = 16,        /* a device or group postpones an update */
	FWC_TX_VALIDATOR_SET = 17,   /* change the validator set */
};
#define FWC_TX_TYPE_MAX 17

/* Member roles (DESIGN §3), carried by FWC_TX_MEMBER_ADD/REMOVE payloads. */
enum fwc_role {
	FWC_ROLE_ADMIN = 1,    /* members, keys */
	FWC_ROLE_RELEASE = 2,  /* sign and publish releases */
	FWC_ROLE_OPERATOR = 3, /* devices, groups, rollouts, config, licences */
	FWC_ROLE_GATEWAY = 4,  /* relay device events */
	FWC_ROLE_AUDITOR = 5,  /* read */
};

#define FWC_TX_VERSION 1
#define FWC_TX_CHAIN_ID_MAX 64
#define FWC_TX_PAYLOAD_MAX 16384
#define FWC_TX_BODY_MAX (FWC_TX_PAYLOAD_MAX + 256)
#define FWC_TX_MAX (FWC_TX_BODY_MAX + 128) /* encoded signed transaction */
#define FWC_TX_ID_LEN 32

/* Short name of a type ("release", "device-event", ...) or NULL when unknown. */
const char *fwc_tx_type_name(int type);

struct fwc_tx {
	uint32_t type;                 /* enum fwc_tx_type */
	struct fwc_cbor_str chain_id;  /* 1..FWC_TX_CHAIN_ID_MAX bytes */
	struct fwc_pubkey sender;      /* parsed and checked on decode */
	uint64_t nonce;                /* per-sender sequence number (replay protection) */
	uint64_t time;                 /* seconds since the Unix epoch, sender's claim */
	struct fwc_cbor_bytes payload; /* 0..FWC_TX_PAYLOAD_MAX bytes, type-specific */
};

/* Encode a transaction body. out NULL measures; *outlen gets the size (also on
 * FWC_ERR_BUFSIZE). Fields are checked first (unknown type FWC_ERR_UNSUPPORTED, bad sizes
 * FWC_ERR_RANGE / FWC_ERR_TOO_LARGE, invalid sender key FWC_ERR_KEY). */
int fwc_tx_encode_body(uint8_t *out, size_t outcap, size_t *outlen, const struct fwc_tx *tx,
                       struct fwc_errinfo *ei);

/* Decode a body (canonical CBOR; all unknown fields refused). tx is written only on success
 * and its strings point into buf. */
int fwc_tx_decode_body(struct fwc_tx *tx, const uint8_t *buf, size_t len, struct fwc_errinfo *ei);

/* A decoded signed transaction; body and sig point into the input buffer. */
struct fwc_signed_tx {
	const uint8_t *body;
	size_t body_len;
	const uint8_t *sig; /* FWC_SIG_LEN bytes */
	struct fwc_tx tx;
};

/* The 32-byte message the sender signs: fwc_tagged_hash(FWC_TAG_TX, body). */
int fwc_tx_digest(uint8_t digest[32], const uint8_t *body, size_t body_len);

/* Sign body[0..body_len) (an encoded body whose sender must be sk's public key, else
 * FWC_ERR_KEY) and write the signed transaction {1: body, 2: signature} to out. out NULL
 * measures. aux: BIP-340 auxiliary randomness (NULL = OS random; fixed only in known-answer
 * tests), ignored for Ed25519. */
int fwc_tx_sign(uint8_t *out, size_t outcap, size_t *outlen, const uint8_t *body, size_t body_len,
                const struct fwc_seckey *sk, const uint8_t aux[32], struct fwc_errinfo *ei);

/* Wrap an encoded body and the sender's signature of fwc_tx_digest(body) (made elsewhere, e.g.
 * by a device's secure element) into the signed transaction {1: body, 2: signature}. Nothing is
 * checked but the arguments; the node verifies. out NULL measures. */
int fwc_tx_encode_signed(uint8_t *out, size_t outcap, size_t *outlen, const uint8_t *body,
                         size_t body_len, const uint8_t sig[FWC_SIG_LEN]);

/* Decode a signed transaction and its body (zero-copy; does not verify the signature). */
int fwc_tx_decode(struct fwc_signed_tx *stx, const uint8_t *buf, size_t len,
                  struct fwc_errinfo *ei);

/* FWC_OK when the signature is the sender's over the body, FWC_ERR_BADSIG otherwise. */
int fwc_tx_verify(const struct fwc_signed_tx *stx, struct fwc_errinfo *ei);

/* Transaction id: SHA-256 of the complete encoded signed transaction buf[0..len) (so two
 * signatures of one body are two transactions; the log commits to the exact bytes). */
int fwc_tx_id(uint8_t id[FWC_TX_ID_LEN], const uint8_t *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
