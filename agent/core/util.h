/* fwagent core — small internal helpers shared by the core files: little-endian byte order by
 * hand (the record's layout must not depend on the compiler's struct layout or the CPU's
 * endianness), constant-time comparison, and the hardened "match" value.
 *
 * Everything is static inline so each core file stays self-contained for MCU builds. */
#ifndef FWAGENT_CORE_UTIL_H
#define FWAGENT_CORE_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Distinct non-zero result of a successful comparison, so that a skipped or glitched
 * instruction that leaves 0 (or 1) in a register cannot pass for "equal". */
#define FWC_AGENT_MATCH 0x6A95C35Au
#define FWC_AGENT_NOMATCH 0x0u

static inline void fwc_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void fwc_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void fwc_put_le64(uint8_t *p, uint64_t v)
{
	fwc_put_le32(p, (uint32_t)v);
	fwc_put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t fwc_get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t fwc_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t fwc_get_le64(const uint8_t *p)
{
	return (uint64_t)fwc_get_le32(p) | (uint64_t)fwc_get_le32(p + 4) << 32;
}

/* FWC_AGENT_MATCH when a[0..len) equals b[0..len), FWC_AGENT_NOMATCH otherwise. The time
 * taken does not depend on where the buffers differ; the volatile accumulator also keeps the
 * compiler from merging two calls on the same buffers, which the double checks rely on. */
static inline uint32_t fwc_ct_match(const uint8_t *a, const uint8_t *b, size_t len)
{
	volatile uint8_t acc = 0;

	for (size_t i = 0; i < len; i++)
		acc = (uint8_t)(acc | (a[i] ^ b[i]));
	return acc == 0 ? FWC_AGENT_MATCH : FWC_AGENT_NOMATCH;
}

/* 1 when all len bytes of p are zero. Not constant time (used on non-secret layout checks). */
static inline int fwc_all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* C99 compile-time assertion (the core cannot rely on C11's _Static_assert). */
#define FWC_STATIC_ASSERT(name, cond) typedef char fwc_static_assert_##name[(cond) ? 1 : -1]

#endif
