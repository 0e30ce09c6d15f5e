/* fwchain — deterministic CBOR (RFC 8949 §4.2.1 core deterministic encoding), strict subset.
 *
 * The profile (docs/formats/cbor.md): unsigned and negative integers, byte strings, UTF-8 text
 * strings, definite-length arrays and maps, false, true and null. Everything else (floats,
 * tags, other simple values, indefinite lengths) is refused, as is any input that is not the
 * one canonical encoding: non-shortest heads, map keys that are not strictly increasing in the
 * bytewise order of their encodings, trailing bytes. Map keys must be integers or strings.
 *
 * The encoder writes into a caller buffer and keeps the first error (sticky), so a sequence of
 * puts needs one check at the end; with no buffer it only measures. The decoder is a zero-copy
 * pull parser: strings come back as pointers into the input, nothing is allocated, and every
 * length, count and depth is bounded. */
#ifndef FWCHAIN_CBOR_H
#define FWCHAIN_CBOR_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Fixed bound on container nesting: a top-level array is depth 1; a container at depth 17 is
 * refused with FWC_ERR_TOO_DEEP. */
#define FWC_CBOR_MAX_DEPTH 16

/* A string or byte string held elsewhere (usually inside a decoder's input buffer). Used by
 * the codecs built on this one for zero-copy fields. */
struct fwc_cbor_str {
	const char *p; /* not NUL-terminated */
	size_t len;
};
struct fwc_cbor_bytes {
	const uint8_t *p;
	size_t len;
};

/* ---------------------------------------------------------------------------------------- */
/* Encoder                                                                                  */

/* Caller-owned encoder state. `len` always counts the bytes the puts so far need, even after an
 * error, so a failed encode tells the caller the size to retry with. */
struct fwc_cbor_enc {
	uint8_t *buf; /* output, or NULL to only measure */
	size_t cap;   /* capacity of buf */
	size_t len;   /* bytes produced (or needed) so far */
	int err;      /* FWC_OK, or the first error (FWC_ERR_BUFSIZE); later puts are no-ops */
};

/* Start encoding into buf[0..cap). buf NULL (cap 0) measures only: nothing is written and no
 * error is raised for lack of room. */
void fwc_cbor_enc_init(struct fwc_cbor_enc *enc, uint8_t *buf, size_t cap);

/* Each put appends one item (or one container head) in its shortest form. On lack of room the
 * encoder records FWC_ERR_BUFSIZE and writes nothing more; `len` keeps counting. */
void fwc_cbor_put_uint(struct fwc_cbor_enc *enc, uint64_t v);
/* Any int64 value: major type 0 for v >= 0, major type 1 otherwise. */
void fwc_cbor_put_int(struct fwc_cbor_enc *enc, int64_t v);
/* The negative integer -1 - n (major type 1 with argument n), covering the whole CBOR range
 * down to -2^64. */
void fwc_cbor_put_nint(struct fwc_cbor_enc *enc, uint64_t n);
/* Byte string / text string of len bytes (p may be NULL when len is 0). put_text does not check
 * UTF-8: the caller encodes only text it knows to be valid. */
void fwc_cbor_put_bytes(struct fwc_cbor_enc *enc, const void *p, size_t len);
void fwc_cbor_put_text(struct fwc_cbor_enc *enc, const char *p, size_t len);
/* Container heads: the caller then puts exactly n items (maps: n key/value pairs, keys in
 * canonical order — the encoder does not sort). */
void fwc_cbor_put_array(struct fwc_cbor_enc *enc, uint64_t n);
void fwc_cbor_put_map(struct fwc_cbor_enc *enc, uint64_t n);
void fwc_cbor_put_bool(struct fwc_cbor_enc *enc, int v);
void fwc_cbor_put_null(struct fwc_cbor_enc *enc);
/* Append already-encoded CBOR bytes verbatim (e.g. preserved extension fields). */
void fwc_cbor_put_raw(struct fwc_cbor_enc *enc, const void *p, size_t len);

/* FWC_OK or the sticky error; *len (optional) gets enc->len either way. */
int fwc_cbor_enc_finish(const struct fwc_cbor_enc *enc, size_t *len);

/* Number of bytes of the head of an item with argument v (1, 2, 3, 5 or 9). */
size_t fwc_cbor_head_size(uint64_t v);

/* ---------------------------------------------------------------------------------------- */
/* Decoder                                                                                  */

enum fwc_cbor_type {
	FWC_CBOR_UINT = 0,  /* major type 0 */
	FWC_CBOR_NINT = 1,  /* major type 1 */
	FWC_CBOR_BYTES = 2, /* major type 2 */
	FWC_CBOR_TEXT = 3,  /* major type 3 */
	FWC_CBOR_ARRAY = 4, /* major type 4 */
	FWC_CBOR_MAP = 5,   /* major type 5 */
	FWC_CBOR_BOOL = 6,  /* simple values 20, 21 */
	FWC_CBOR_NULL = 7,  /* simple value 22 */
};

/* One open container. Internal to the decoder; in the header only so the caller can own the
 * storage. */
struct fwc_cbor_level {
	uint64_t left;  /* items still to read at this level (a map counts keys and values) */
	size_t key_off; /* offset of the previous key of this map, when have_key */
	size_t key_len; /* its encoded length */
	uint8_t is_map;
	uint8_t have_key;
};

/* Caller-owned decoder state over one top-level item in buf[0..len). Nothing points outside
 * the input; the struct may live on the stack. */
struct fwc_cbor_dec {
	const uint8_t *buf;
	size_t len;
	size_t pos;      /* offset of the next unread byte */
	size_t max_item; /* limit on any string's byte length and any container's entry count */
	struct fwc_errinfo *ei;
	int err;        /* FWC_OK or the first error; every later call returns it again */
	unsigned depth; /* open containers */
	uint8_t done;   /* the top-level item has been read completely */
	struct fwc_cbor_level stack[FWC_CBOR_MAX_DEPTH];
};

/* Start decoding buf[0..len). max_item bounds every string length and every array/map entry
 * count (FWC_ERR_TOO_LARGE beyond it). ei (optional) receives the first error's offset and
 * message. */
void fwc_cbor_dec_init(struct fwc_cbor_dec *dec, const uint8_t *buf, size_t len, size_t max_item,
                       struct fwc_errinfo *ei);

/* All getters: read the next item, which must have the asked type (FWC_ERR_TYPE otherwise,
 * nothing consumed), and return FWC_OK or an error code. Out-params are written only on
 * success. Every error is sticky: the decoder refuses everything afterwards with the same code.
 * When the item is a map key, its ordering against the previous key is checked
 * (FWC_ERR_UNSORTED, FWC_ERR_DUPLICATE). Reading past the end of the top-level item gives
 * FWC_ERR_STATE. */
int fwc_cbor_get_uint(struct fwc_cbor_dec *dec, uint64_t *v);
/* Major type 0 or 1 whose value fits int64 (FWC_ERR_RANGE otherwise). */
int fwc_cbor_get_int(struct fwc_cbor_dec *dec, int64_t *v);
/* Major type 1: the item's value is -1 - *n. */
int fwc_cbor_get_nint(struct fwc_cbor_dec *dec, uint64_t *n);
/* *p points into the input (valid as long as it is); *len is the string's length. Text must be
 * valid UTF-8 (FWC_ERR_MALFORMED otherwise) and is not NUL-terminated. */
int fwc_cbor_get_bytes(struct fwc_cbor_dec *dec, const uint8_t **p, size_t *len);
int fwc_cbor_get_text(struct fwc_cbor_dec *dec, const char **p, size_t *len);
/* Enter a container: *n is its entry count (maps: number of pairs). The caller then reads
 * exactly n items (2n for a map); the container closes itself after its last item. */
int fwc_cbor_get_array(struct fwc_cbor_dec *dec, uint64_t *n);
int fwc_cbor_get_map(struct fwc_cbor_dec *dec, uint64_t *n);
int fwc_cbor_get_bool(struct fwc_cbor_dec *dec, int *v);
int fwc_cbor_get_null(struct fwc_cbor_dec *dec);

/* Type of the next item without consuming it. Its head is fully checked (canonical form,
 * supported type), so an error here is the same the getter would give. */
int fwc_cbor_peek(struct fwc_cbor_dec *dec, enum fwc_cbor_type *type);

/* Skip the next item with everything nested in it, checking all of it as the getters would.
 * start and len (both optional) receive the offset and length of its encoding. */
int fwc_cbor_skip(struct fwc_cbor_dec *dec, size_t *start, size_t *len);

/* After the top-level item: FWC_OK when it was read completely and nothing follows it;
 * FWC_ERR_TRUNCATED when the caller stopped inside it; FWC_ERR_TRAILING when bytes follow. */
int fwc_cbor_finish(struct fwc_cbor_dec *dec);

/* Check that buf[0, len) is exactly one item of this profile in canonical form, with every
 * string and container within max_item. FWC_OK or the first problem's code (details in ei). */
int fwc_cbor_validate(const uint8_t *buf, size_t len, size_t max_item, struct fwc_errinfo *ei);

/* 1 when s[0..len) is valid UTF-8 (no overlongs, surrogates or code points above U+10FFFF);
 * else 0, with *bad (optional) set to the offset of the first bad byte. */
int fwc_utf8_valid(const uint8_t *s, size_t len, size_t *bad);

#ifdef __cplusplus
}
#endif
#endif
