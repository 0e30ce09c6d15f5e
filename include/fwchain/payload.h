/* fwchain — typed transaction payloads and the device-signed event object.
 *
 * Each transaction type of docs/state-machine.md carries one payload: a deterministic CBOR map
 * with small unsigned integer keys (keys 0..63 are defined or critical, keys >= 64 are ignored
 * by readers). Byte layout: docs/formats/payloads.md. Decoders are strict and zero-copy: text,
 * byte strings and nested objects come back as (pointer, length) pairs into the input, which
 * must outlive the decoded struct; keys are parsed and checked (valid point) into struct
 * fwc_pubkey. Encoders check the same rules as the decoders, so the CLI cannot build a payload
 * the ledger would refuse as malformed.
 *
 * Encoders: write into out[0..cap) and set *outlen; on FWC_ERR_BUFSIZE *outlen gets the size
 * needed. Decoders: fill *p only on success, else return the error and fill ei (optional). */
#ifndef FWCHAIN_PAYLOAD_H
#define FWCHAIN_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/cbor.h"
#include "fwchain/err.h"
#include "fwchain/key.h"
#include "fwchain/keyset.h"
#include "fwchain/tx.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bounds (bytes unless said otherwise). */
#define FWC_PL_ID_MAX 64      /* organisation, product, licence id */
#define FWC_PL_NAME_MAX 128   /* names, labels */
#define FWC_PL_REASON_MAX 255 /* reasons, event detail */
#define FWC_PL_HWID_MAX 64
#define FWC_PL_GROUP_MAX 32
#define FWC_PL_GROUPS_MAX 16 /* groups per device */
#define FWC_PL_REGION_MAX 32
#define FWC_PL_ATTRS_MAX 16 /* attributes per device */
#define FWC_PL_ATTR_KEY_MAX 32
#define FWC_PL_ATTR_VALUE_MAX 128
#define FWC_PL_CONFIG_NAME_MAX 64
#define FWC_PL_CONFIG_VALUE_MAX 1024
#define FWC_PL_FEATURE_MAX 64
#define FWC_PL_VALIDATORS_MAX 64
#define FWC_PL_SIGS_MAX 16                   /* signatures on a rotation statement */
#define FWC_PL_OBJECT_MAX FWC_TX_PAYLOAD_MAX /* an embedded manifest, key set, statement */
#define FWC_RELEASE_ID_LEN 32

/* Roles are enum fwc_role (tx.h); the state keeps a member's roles as a bit mask. */
#define FWC_ROLE_BIT(role) (1u << ((unsigned)(role)-1u))
#define FWC_ROLE_BITS_ALL 0x1fu

/* Tag of the key-set statement (one tag per signed object type, as in sha256.h). */
#define FWC_TAG_ROTATION "fwchain/keyset-statement/v1"

struct fwc_pl_attr {
	struct fwc_cbor_str key;
	struct fwc_cbor_str value;
};

/* ORG_REGISTER: 1 id, 2 name, 3 first admin key. */
struct fwc_pl_org_register {
	struct fwc_cbor_str id;
	struct fwc_cbor_str name;
	struct fwc_pubkey admin;
};

/* MEMBER_ADD: 1 key, 2 role (enum fwc_role), 3 label (optional, has_label). Adds the role to
 * the key's roles, making it a member of the sender's organisation if it is not one yet. */
struct fwc_pl_member_add {
	struct fwc_pubkey key;
	uint32_t role;
	int has_label;
	struct fwc_cbor_str label;
};

/* MEMBER_REMOVE: 1 key, 2 role (optional: absent removes the member with all its roles). */
struct fwc_pl_member_remove {
	struct fwc_pubkey key;
	uint32_t role; /* 0 when absent */
};

/* KEY_REVOKE: 1 key, 2 reason (optional; len 0 when absent). */
struct fwc_pl_key_revoke {
	struct fwc_pubkey key;
	struct fwc_cbor_str reason;
};

/* PRODUCT_REGISTER: 1 id, 2 name, 3 root key set (the embedded keyset.h item, checked with
 * fwc_keyset_decode()). The release set follows in KEYSET_REGISTER. */
struct fwc_pl_product_register {
	struct fwc_cbor_str id;
	struct fwc_cbor_str name;
	struct fwc_cbor_bytes root_set;
};

/* KEYSET_REGISTER and KEYSET_ROTATE: 1 key-set statement (byte string; decode with
 * fwc_rotation_decode()). */
struct fwc_pl_keyset_statement {
	struct fwc_cbor_bytes statement;
};

/* Groups: strictly increasing bytewise (so sorted and distinct), each 1..32 bytes of id. */
struct fwc_pl_groups {
	size_t n;
	struct fwc_cbor_str v[FWC_PL_GROUPS_MAX];
};
/* Attributes: text keys in canonical CBOR order, at most 16. */
struct fwc_pl_attrs {
	size_t n;
	struct fwc_pl_attr v[FWC_PL_ATTRS_MAX];
};

/* DEVICE_REGISTER: 1 device key, 2 product, 3 hwid, 4 groups, 5 region, 6 attributes,
 * 7 installed release counter, 8 update, 9 retire (4..9 optional: absent = empty / 0 / false).
 * With update (true) the device must exist and fields 4..6 replace its groups, region and
 * attributes (absent clears them); retire (true, only with update) retires it for ever. */
struct fwc_pl_device_register {
	struct fwc_pubkey device;
	struct fwc_cbor_str product;
	struct fwc_cbor_str hwid;
	struct fwc_pl_groups groups;
	struct fwc_cbor_str region;
	struct fwc_pl_attrs attrs;
	uint64_t counter;
	int update, retire;
};

/* RELEASE: 1 the signed manifest (byte string, manifest.h encoding). */
struct fwc_pl_release {
	struct fwc_cbor_bytes manifest;
};

/* RELEASE_REVOKE: 1 release id, 2 reason (optional). */
struct fwc_pl_release_revoke {
	uint8_t release_id[FWC_RELEASE_ID_LEN];
	struct fwc_cbor_str reason;
};

enum fwc_rollout_action {
	FWC_ROLLOUT_PAUSE = 1,
	FWC_ROLLOUT_RESUME = 2,
	FWC_ROLLOUT_HALT = 3,
};

/* ROLLOUT_CONTROL: 1 release id, 2 action, 3 reason (optional). */
struct fwc_pl_rollout {
	uint8_t release_id[FWC_RELEASE_ID_LEN];
	uint32_t action;
	struct fwc_cbor_str reason;
};

/* POSTPONE: 1 device key or 5 group (exactly one), 2 release id, 3 until (seconds since the
 * epoch), 4 reason (optional). */
struct fwc_pl_postpone {
	int has_device, has_group;
	struct fwc_pubkey device;
	struct fwc_cbor_str group;
	uint8_t release_id[FWC_RELEASE_ID_LEN];
	uint64_t until;
	struct fwc_cbor_str reason;
};

/* CONFIG_UPDATE: 1 product, 2 group (optional), 3 device (optional; not with 2), 4 name,
 * 5 value (optional: absent deletes). */
struct fwc_pl_config_update {
	struct fwc_cbor_str product;
	int has_group, has_device, has_value;
	struct fwc_cbor_str group;
	struct fwc_pubkey device;
	struct fwc_cbor_str name;
	struct fwc_cbor_bytes value;
};

/* LICENCE_ISSUE: 1 id, 2 product, 3 device (optional), 4 feature, 5 not before,
 * 6 not after (0 = no end). */
struct fwc_pl_licence_issue {
	struct fwc_cbor_str id;
	struct fwc_cbor_str product;
	int has_device;
	struct fwc_pubkey device;
	struct fwc_cbor_str feature;
	uint64_t not_before;
	uint64_t not_after;
};

/* LICENCE_REVOKE: 1 id, 2 product, 3 reason (optional). */
struct fwc_pl_licence_revoke {
	struct fwc_cbor_str id;
	struct fwc_cbor_str product;
	struct fwc_cbor_str reason;
};

/* DEVICE_EVENT, in one of two forms (exactly one of the fields is set, len > 0):
 *   1 event: the device-signed event object (byte string; decode with fwc_event_decode()),
 *     the relayed form: any sender with the write right, the event's own signature checked;
 *   2 body:  the event body alone, embedded as a map (decode with fwc_event_body_decode()),
 *     the self-reported form: valid only in a transaction whose sender is the event's device,
 *     whose envelope signature then covers the body (one signature instead of two).
 * As field 1 is an opaque signed object for fwc_event_decode, field 2 is an opaque map for
 * fwc_event_body_decode: the payload decoder checks that it is one canonical CBOR map
 * (FWC_ERR_TYPE otherwise), sets the other field to {NULL, 0}, and refuses both fields
 * (FWC_ERR_MALFORMED) or neither (FWC_ERR_MISSING_FIELD). The encoder writes form 1 when
 * event.len > 0 (body is then not read), else form 2 (FWC_ERR_RANGE for an empty body,
 * FWC_ERR_TYPE or the CBOR validator's error for a body that is not one canonical map). */
struct fwc_pl_device_event {
	struct fwc_cbor_bytes event;
	struct fwc_cbor_bytes body;
};

struct fwc_pl_validator {
	struct fwc_pubkey key; /* ed25519 only */
	struct fwc_cbor_str name;
};

/* VALIDATOR_SET: 1 version, 2 validators (array of {1 key, 2 name}), 3 quorum. Keys need not
 * be distinct here (the state machine refuses duplicates with its own code). */
struct fwc_pl_validator_set {
	uint64_t version;
	size_t n;
	struct fwc_pl_validator v[FWC_PL_VALIDATORS_MAX];
	uint64_t quorum;
};

#define FWC_PL_DECLARE(name)                                                                       \
	int fwc_pl_##name##_encode(uint8_t *out, size_t cap, size_t *outlen,                       \
	                           const struct fwc_pl_##name *p);                                 \
	int fwc_pl_##name##_decode(struct fwc_pl_##name *p, const uint8_t *in, size_t len,         \
	                           struct fwc_errinfo *ei);

/* Encoders and decoders, one pair per payload type (see the note at the top for the calling
 * convention). Encoders return FWC_ERR_ARG for NULL pointers, the decoder's error code for a
 * field the decoder would refuse (FWC_ERR_RANGE, FWC_ERR_TOO_LARGE, FWC_ERR_MALFORMED), and
 * FWC_ERR_BUFSIZE when cap is short. Decoders return FWC_OK or: FWC_ERR_TYPE (a field of the
 * wrong CBOR type), FWC_ERR_UNKNOWN_FIELD (key 0..63 not defined), FWC_ERR_MISSING_FIELD,
 * FWC_ERR_RANGE / FWC_ERR_TOO_LARGE (a bound), FWC_ERR_MALFORMED (syntax of an id, a bad
 * string), FWC_ERR_NONCANONICAL (a default value written out), FWC_ERR_KEY (invalid public
 * key), or any error of the CBOR decoder (FWC_ERR_UNSORTED, FWC_ERR_TRAILING, ...). */
FWC_PL_DECLARE(org_register)
FWC_PL_DECLARE(member_add)
FWC_PL_DECLARE(member_remove)
FWC_PL_DECLARE(key_revoke)
FWC_PL_DECLARE(product_register)
FWC_PL_DECLARE(keyset_statement)
FWC_PL_DECLARE(device_register)
FWC_PL_DECLARE(release)
FWC_PL_DECLARE(release_revoke)
FWC_PL_DECLARE(rollout)
FWC_PL_DECLARE(postpone)
FWC_PL_DECLARE(config_update)
FWC_PL_DECLARE(licence_issue)
FWC_PL_DECLARE(licence_revoke)
FWC_PL_DECLARE(device_event)
FWC_PL_DECLARE(validator_set)

/* Any payload, by transaction type. */
struct fwc_payload {
	uint32_t type; /* enum fwc_tx_type */
	union {
		struct fwc_pl_org_register org_register;
		struct fwc_pl_member_add member_add;
		struct fwc_pl_member_remove member_remove;
		struct fwc_pl_keyset_statement keyset_statement; /* KEYSET_REGISTER, _ROTATE */
		struct fwc_pl_key_revoke key_revoke;
		struct fwc_pl_product_register product_register;
		struct fwc_pl_device_register device_register;
		struct fwc_pl_release release;
		struct fwc_pl_release_revoke release_revoke;
		struct fwc_pl_device_event device_event;
		struct fwc_pl_config_update config_update;
		struct fwc_pl_licence_issue licence_issue;
		struct fwc_pl_licence_revoke licence_revoke;
		struct fwc_pl_rollout rollout;
		struct fwc_pl_postpone postpone;
		struct fwc_pl_validator_set validator_set;
	} u;
};

/* Decode the payload of a transaction of the given type. FWC_ERR_UNSUPPORTED for a type this
 * version does not know; otherwise as the per-type decoder. pl is written only on success. */
int fwc_payload_decode(struct fwc_payload *pl, uint32_t type, const uint8_t *in, size_t len,
                       struct fwc_errinfo *ei);

/* ---------------------------------------------------------------------------------------- */
/* The device event: {1: body, 2: signature}; the device signs
 * tagged_hash(FWC_TAG_EVENT, encoded body). */

enum fwc_event_kind {
	FWC_EVENT_CHECKIN = 1,
	FWC_EVENT_DOWNLOADED = 2,
	FWC_EVENT_INSTALLED = 3,
	FWC_EVENT_CONFIRMED = 4,
	FWC_EVENT_ROLLED_BACK = 5,
	FWC_EVENT_FAILED = 6,
	FWC_EVENT_POSTPONED = 7,
	FWC_EVENT_VENDOR_MIN = 64, /* kinds >= 64 are vendor-defined */
};

/* Body fields: 1 device key, 2 sequence number (>= 1), 3 device time, 4 kind, 5 release id
 * (optional), 6 counter (optional), 7 detail (optional, 0..255 bytes). */
struct fwc_event {
	struct fwc_pubkey device;
	uint64_t seq;
	uint64_t time;
	uint64_t kind;
	int has_release, has_counter;
	uint8_t release_id[FWC_RELEASE_ID_LEN];
	uint64_t counter;
	struct fwc_cbor_str detail;
	/* Filled by the decoder (ignored by fwc_event_sign): */
	struct fwc_cbor_bytes body; /* the signed bytes */
	uint8_t sig[FWC_SIG_LEN];
};

/* Encode ev's body, sign it with sk (which must be the secret key of ev->device: checked,
 * FWC_ERR_KEY otherwise) and write the whole event object. */
int fwc_event_sign(uint8_t *out, size_t cap, size_t *outlen, const struct fwc_event *ev,
                   const struct fwc_seckey *sk);
/* The two halves of fwc_event_sign for a signer that holds no fwc_seckey (the device agent,
 * whose key stays in its port): encode ev's body (checked as fwc_event_sign checks it), and
 * wrap a body and the device's signature of tagged_hash(FWC_TAG_EVENT, body) into the event
 * object. Same conventions as the payload encoders. */
int fwc_event_body_encode(uint8_t *out, size_t cap, size_t *outlen, const struct fwc_event *ev);
int fwc_event_encode(uint8_t *out, size_t cap, size_t *outlen, const uint8_t *body, size_t body_len,
                     const uint8_t sig[FWC_SIG_LEN]);
/* Strict decode; does not verify the signature. Kinds 8..63 are refused (FWC_ERR_RANGE). */
int fwc_event_decode(struct fwc_event *ev, const uint8_t *in, size_t len, struct fwc_errinfo *ei);
/* Strict decode of an event body alone (what fwc_event_body_encode writes, and what the
 * self-reported DEVICE_EVENT payload carries in its field 2): the same checks as the body
 * inside fwc_event_decode. ev->body points at in; ev->sig is zeroed (a body carries no
 * signature: fwc_event_verify on it fails). ev is written only on success. */
int fwc_event_body_decode(struct fwc_event *ev, const uint8_t *in, size_t len,
                          struct fwc_errinfo *ei);
/* As fwc_event_body_decode, for a caller that already holds a checked key (the node: the
 * sender of the transaction, whose key its decoder checked): a device key whose 33 bytes are
 * known's binary form is taken as known without checking the curve point a second time (a
 * square root, about a seventh of a signature check). Any other key is checked as usual.
 * known NULL: exactly fwc_event_body_decode. */
int fwc_event_body_decode_known(struct fwc_event *ev, const uint8_t *in, size_t len,
                                const struct fwc_pubkey *known, struct fwc_errinfo *ei);
/* FWC_OK when ev->sig is the device key's signature of ev->body; FWC_ERR_BADSIG otherwise. */
int fwc_event_verify(const struct fwc_event *ev);

/* ---------------------------------------------------------------------------------------- */
/* The key-set statement, carried by KEYSET_REGISTER (the first release set, version 1) and
 * KEYSET_ROTATE (a new root or release set, version = current + 1): {1: body, 2: signatures}.
 * Body: 1 product id, 2 which set (1 root, 2 release), 3 version, 4 the key set (keyset.h
 * encoding). Signatures: an array (1..16) of {1: key, 2: signature} over
 * tagged_hash(FWC_TAG_ROTATION, encoded body), strictly increasing by the key's binary form
 * (so one per key), the same rule as signed manifests. */

enum fwc_rotation_set {
	FWC_ROTATE_ROOT = 1,
	FWC_ROTATE_RELEASE = 2,
};

struct fwc_rotation {
	struct fwc_cbor_str product;
	uint32_t set;
	uint64_t version;
	struct fwc_cbor_bytes keyset;
	/* Filled by the decoder (ignored by the encoders, which take the signatures apart): */
	struct fwc_cbor_bytes body;
	size_t n_sigs;
	struct fwc_keyset_sig sigs[FWC_PL_SIGS_MAX]; /* point into the decoded input */
};

/* Encode the body only (what the signers sign). */
int fwc_rotation_body_encode(uint8_t *out, size_t cap, size_t *outlen,
                             const struct fwc_rotation *rot);
/* The digest the keys sign: tagged_hash(FWC_TAG_ROTATION, body): rot->body when set (a
 * decoded statement), else the encoding of rot's fields. */
int fwc_rotation_digest(uint8_t out[32], const struct fwc_rotation *rot);
/* Encode the statement: rot's body and sigs[0..n_sigs) (any order: sorted here; one key twice
 * is FWC_ERR_DUPLICATE; each pubkey must be a valid 33-byte binary key). */
int fwc_rotation_encode(uint8_t *out, size_t cap, size_t *outlen, const struct fwc_rotation *rot,
                        const struct fwc_keyset_sig *sigs, size_t n_sigs);
/* Strict decode; signatures are not verified (the state machine counts them against the
 * product's root set with fwc_keyset_verify_threshold()). */
int fwc_rotation_decode(struct fwc_rotation *rot, const uint8_t *in, size_t len,
                        struct fwc_errinfo *ei);

/* 1 when s[0..len) is an id: [a-z0-9][a-z0-9._-]* of 1..max bytes. */
int fwc_pl_id_valid(const char *s, size_t len, size_t max);

#ifdef __cplusplus
}
#endif
#endif
