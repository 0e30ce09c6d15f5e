/* fwagent core — firmware slot helpers: programming a slot block by block with the erases the
 * flash needs, and hashing what a slot holds. Internal to the core. */
#ifndef FWAGENT_CORE_SLOTS_H
#define FWAGENT_CORE_SLOTS_H

#include <stddef.h>
#include <stdint.h>

#include "fwagent/port.h"

/* The other slot of the pair (A for B, B for anything else). */
static inline uint8_t fwc_agent_slot_other(uint8_t slot)
{
	return slot == FWC_SLOT_B ? FWC_SLOT_A : FWC_SLOT_B;
}

/* 1 when erase units of erase_unit bytes and blocks of FWC_AGENT_BLOCK_SIZE can be used
 * together: one must divide the other, and erase_unit is a power of two. */
int fwc_agent_slot_geometry_ok(uint32_t erase_unit, uint64_t slot_size);

/* Program data[0..len) at offset off (a multiple of FWC_AGENT_BLOCK_SIZE, len at most one
 * block) of slot. When off starts an erase unit, the unit (or the whole block, if blocks are
 * larger) is erased first, so a slot is always written front to back with each erase
 * immediately before the first write into its unit. Returns FWC_OK, FWC_ERR_ARG (range
 * outside the slot), or the port's error. */
int fwc_agent_slot_program(struct fwc_port *port, uint8_t slot, uint64_t slot_size,
                           uint32_t erase_unit, uint64_t off, const uint8_t *data, size_t len);

/* SHA-256 of the first size bytes of slot, read through buf[0..cap) (cap > 0). h is used as
 * the hash context and is finalised on every path. out is written only on FWC_OK.
 * Returns FWC_OK, FWC_ERR_ARG, or the port's error. */
int fwc_agent_slot_hash(struct fwc_port *port, struct fwc_port_sha256 *h, uint8_t out[32],
                        uint8_t *buf, size_t cap, uint8_t slot, uint64_t size);

#endif
