/* fwchain — C2SP signed notes (c2sp.org/signed-note), transparency-log checkpoints
 * (c2sp.org/tlog-checkpoint) and timestamped Ed25519 cosignatures (c2sp.org/tlog-cosignature,
 * "cosignature/v1"). Format and worked examples: docs/formats/checkpoint.md.
 *
 * A note is a text (UTF-8, no control characters but newline, ending in a newline), a blank
 * line, and one or more signature lines "— <name> <base64(key id || signature)>\n". fwchain's
 * checkpoints are notes whose text is origin, tree size, base64 root and extension lines, and
 * validators sign them with cosignature/v1.
 *
 * Parsing is zero-copy: struct fwc_note and struct fwc_checkpoint point into the caller's buffer,
 * which must outlive them. Nothing here allocates. */
#ifndef FWCHAIN_NOTE_H
#define FWCHAIN_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/err.h"
#include "fwchain/key.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bounds. The spec asks verifiers to accept at least 16 signatures; Go's sumdb/note stops at
 * 100. A note (text and signatures) is at most FWC_NOTE_MAX_LEN bytes. The text a cosignature
 * covers is copied after its two header lines into a stack buffer, hence its own bound. */
#ifndef FWC_NOTE_MAX_LEN
#define FWC_NOTE_MAX_LEN 65536
#endif
#ifndef FWC_NOTE_MAX_SIGS
#define FWC_NOTE_MAX_SIGS 100
#endif
#ifndef FWC_NOTE_COSIGNED_TEXT_MAX
#define FWC_NOTE_COSIGNED_TEXT_MAX 4096
#endif
#define FWC_NOTE_NAME_MAX 255     /* bytes of a key name */
#define FWC_NOTE_MAX_VERIFIERS 64 /* verifier keys per verification call */
#define FWC_NOTE_KEYID_LEN 4
/* "<name>+<8 hex>+<base64 of 33 bytes>" and a NUL. */
#define FWC_NOTE_VKEY_TEXT_MAX (FWC_NOTE_NAME_MAX + 1 + 8 + 1 + 44 + 1)
/* Largest timestamp a cosignature may carry (2^63 - 1). */
#define FWC_NOTE_TIMESTAMP_MAX 0x7fffffffffffffffull

/* Signature type bytes (c2sp.org/signed-note "Signature types") that fwchain implements. */
enum fwc_note_sigtype {
	FWC_NOTE_SIG_ED25519 = 0x01,  /* plain Ed25519 over the note text */
	FWC_NOTE_SIG_COSIG_V1 = 0x04, /* timestamped Ed25519 checkpoint cosignature */
};

/* A verifier key: the name, key id, type and Ed25519 public key of one signer. Self-contained
 * (the name is copied), so configurations can keep arrays of them. */
struct fwc_note_vkey {
	char name[FWC_NOTE_NAME_MAX + 1]; /* NUL-terminated */
	size_t name_len;
	uint8_t type; /* enum fwc_note_sigtype */
	uint8_t keyid[FWC_NOTE_KEYID_LEN];
	uint8_t pubkey[32];
};

/* FWC_OK when name[0..len) is a valid key name: non-empty, at most FWC_NOTE_NAME_MAX bytes,
 * valid UTF-8, no Unicode white space, no '+', no control character. FWC_ERR_MALFORMED else. */
int fwc_note_name_check(const char *name, size_t len, struct fwc_errinfo *ei);

/* Key id = SHA-256(name || 0x0A || type || pubkey)[:4]. */
int fwc_note_keyid(uint8_t id[FWC_NOTE_KEYID_LEN], const char *name, size_t name_len, uint8_t type,
                   const uint8_t *pubkey, size_t pubkey_len);

/* Verifier key of an fwchain Ed25519 public key under `name` for signature type `type`.
 * FWC_ERR_MALFORMED (bad name), FWC_ERR_UNSUPPORTED (type), FWC_ERR_KEY (not Ed25519). */
int fwc_note_vkey_init(struct fwc_note_vkey *vk, const char *name, size_t name_len, uint8_t type,
                       const struct fwc_pubkey *pk);

/* Parse the text form "<name>+<hex key id>+<base64(type || pubkey)>" (exactly text[0..len), no
 * newline). The key id must be 8 lowercase hex digits equal to the computed one, the base64
 * canonical, the type 0x01 or 0x04 (else FWC_ERR_UNSUPPORTED), the key a valid Ed25519 point
 * (else FWC_ERR_KEY). vk is written only on success. */
int fwc_note_vkey_parse(struct fwc_note_vkey *vk, const char *text, size_t len,
                        struct fwc_errinfo *ei);

/* Print the text form and a NUL into out (outcap >= FWC_NOTE_VKEY_TEXT_MAX is always enough). */
int fwc_note_vkey_format(char *out, size_t outcap, const struct fwc_note_vkey *vk);

/* One signature line of a parsed note. Pointers into the note buffer. */
struct fwc_note_sig {
	const char *line; /* the whole line, from the em dash, without its newline */
	size_t line_len;
	const char *name;
	size_t name_len;
	const char *b64; /* base64 of key id || signature */
	size_t b64_len;
	uint8_t keyid[FWC_NOTE_KEYID_LEN];
	size_t sig_len; /* decoded bytes after the key id (>= 1) */
};

struct fwc_note {
	const char *text; /* the signed text: starts the buffer, ends with its final newline */
	size_t text_len;
	size_t nsigs;
	struct fwc_note_sig sigs[FWC_NOTE_MAX_SIGS];
};

/* Parse msg[0..len) as a signed note (no signature is checked here). Checks: size bound, valid
 * UTF-8 without control characters but newline, a blank line before the signature block (the
 * last blank line of the note), every line of that block "— name base64\n" with a valid name and
 * canonical base64 of at least 5 bytes, at most FWC_NOTE_MAX_SIGS lines. Errors:
 * FWC_ERR_TOO_LARGE, FWC_ERR_MALFORMED, FWC_ERR_NONCANONICAL, with the offset in ei. n is written
 * only on success and points into msg. */
int fwc_note_parse(struct fwc_note *n, const char *msg, size_t len, struct fwc_errinfo *ei);

/* The timestamp a cosignature/v1 line carries (sig_len == 72), read WITHOUT verifying it: for
 * display of lines by unknown keys. FWC_ERR_TYPE when the line has another length. */
int fwc_note_sig_timestamp(uint64_t *t, const struct fwc_note_sig *s);

/* What one verifier contributed to a note. */
struct fwc_note_check {
	int valid;          /* 1 when the note carries a valid signature by this verifier */
	uint64_t timestamp; /* cosignature/v1: the newest valid cosignature's time; 0 otherwise */
	size_t sig_index;   /* index in note->sigs of that signature (when valid) */
};

/* Check every signature line of n that names a known verifier (same name AND key id; other lines
 * are ignored, as the spec requires). Every such line is verified, a repeated line of one key
 * included; a key counts once, and for repeated cosignatures the newest time is reported.
 * res (optional) has room for nv entries, one per verifier, written only on success.
 * Returns FWC_OK (even if no verifier signed), FWC_ERR_BADSIG (a known key's signature fails,
 * which rejects the whole note; ei names the key and gives the line offset), FWC_ERR_TOO_LARGE
 * (cosigned text above FWC_NOTE_COSIGNED_TEXT_MAX), FWC_ERR_DUPLICATE (two verifiers share name
 * and key id: the spec's ambiguous key), FWC_ERR_ARG (nv > FWC_NOTE_MAX_VERIFIERS). */
int fwc_note_verify(struct fwc_note_check *res, const struct fwc_note *n,
                    const struct fwc_note_vkey *verifiers, size_t nv, struct fwc_errinfo *ei);

/* fwc_note_verify, then require at least `quorum` (1..nv) distinct verifiers with a valid
 * signature. *nvalid (optional) gets the count. FWC_ERR_QUORUM when fewer signed (ei says how
 * many); outputs are written only on FWC_OK. */
int fwc_note_verify_quorum(struct fwc_note_check *res, size_t *nvalid, const struct fwc_note *n,
                           const struct fwc_note_vkey *verifiers, size_t nv, size_t quorum,
                           struct fwc_errinfo *ei);

/* A signer: an Ed25519 fwchain secret key under a note key name. */
struct fwc_note_signer {
	const char *name;
	size_t name_len;
	uint8_t type;                /* FWC_NOTE_SIG_ED25519 or FWC_NOTE_SIG_COSIG_V1 */
	const struct fwc_seckey *sk; /* must be FWC_ALG_ED25519 */
	uint64_t timestamp;          /* cosignature/v1 only; at most FWC_NOTE_TIMESTAMP_MAX */
};

/* Sign text[0..len) (a note text: ends with a newline, note character rules) and write the
 * signed note "text\n— name sig\n" and a NUL to out. A cosignature/v1 signer requires the text to
 * be a valid checkpoint. *outlen (optional) gets the length without the NUL.
 * FWC_ERR_BUFSIZE when out is too small; outputs written only on success. */
int fwc_note_sign_text(char *out, size_t outcap, size_t *outlen, const char *text, size_t len,
                       const struct fwc_note_signer *s);

/* Add a signature to a parsed note: write its text, the blank line, its signature lines except
 * any with the signer's own name and key id (a new signature replaces an old one), then the new
 * line, and a NUL. out must not overlap the buffer n points into. */
int fwc_note_sign(char *out, size_t outcap, size_t *outlen, const struct fwc_note *n,
                  const struct fwc_note_signer *s);

/* ---- checkpoints (c2sp.org/tlog-checkpoint) ---------------------------------------------- */

#define FWC_CHECKPOINT_MAX_EXT 16

/* One line of text (no newline), e.g. an extension line. */
struct fwc_note_line {
	const char *ptr;
	size_t len;
};

struct fwc_checkpoint {
	const char *origin; /* first line, non-empty, pointer into the text */
	size_t origin_len;
	uint64_t size;    /* tree size */
	uint8_t root[32]; /* RFC 6962 root hash */
	size_t n_ext;
	struct fwc_note_line ext[FWC_CHECKPOINT_MAX_EXT]; /* extension lines, in order */
};

/* Parse a checkpoint note text (struct fwc_note.text): at least three non-empty lines, each
 * ending in a newline: origin, tree size in decimal without leading zeros (FWC_ERR_RANGE above
 * 2^64-1), the canonical base64 of a 32-byte root, then up to FWC_CHECKPOINT_MAX_EXT non-empty
 * extension lines (FWC_ERR_TOO_LARGE beyond). Zero-copy; cp written only on success. */
int fwc_checkpoint_parse(struct fwc_checkpoint *cp, const char *text, size_t len,
                         struct fwc_errinfo *ei);

/* Write a checkpoint text and a NUL: origin, size, base64 root, the extension lines. Each line
 * must be non-empty, valid UTF-8 without control characters. What the extension lines say is the
 * caller's business: fwchain's node writes "<key> <value>" lines such as "height 12" (see
 * docs/formats/checkpoint.md); this layer keeps them opaque. */
int fwc_checkpoint_format(char *out, size_t outcap, size_t *outlen, const char *origin,
                          size_t origin_len, uint64_t size, const uint8_t root[32],
                          const struct fwc_note_line *ext, size_t n_ext);

/* Find the first extension line of the form "<key> <value>" (key[0..key_len) then one space)
 * and point *value at the rest of that line. FWC_ERR_NOT_FOUND when there is none. */
int fwc_checkpoint_ext_find(const char **value, size_t *value_len, const struct fwc_checkpoint *cp,
                            const char *key, size_t key_len);

#ifdef __cplusplus
}
#endif
#endif
