/* Firmware slot helpers: front-to-back programming with erase-before-write, and hashing.
 *
 * The agent writes an image strictly in increasing offsets and erases each erase unit just
 * before its first block is programmed. That keeps the number of storage operations per image
 * at about two per block (bounded, which the power-loss tests rely on), never erases a unit
 * that holds bytes already verified in this pass, and lets a resumed download restart at any
 * erase-unit boundary. Hashing reads back from the slot rather than trusting what was sent to
 * it, so the check covers the flash itself. */
#include "slots.h"

#include <string.h>

int fwc_agent_slot_geometry_ok(uint32_t erase_unit, uint64_t slot_size)
{
	if (erase_unit == 0 || (erase_unit & (erase_unit - 1)) != 0)
		return 0;
	if (FWC_AGENT_BLOCK_SIZE % erase_unit != 0 && erase_unit % FWC_AGENT_BLOCK_SIZE != 0)
		return 0;
	return slot_size % erase_unit == 0 && slot_size % FWC_AGENT_BLOCK_SIZE == 0;
}

int fwc_agent_slot_program(struct fwc_port *port, uint8_t slot, uint64_t slot_size,
                           uint32_t erase_unit, uint64_t off, const uint8_t *data, size_t len)
{
	int rc;

	if (data == NULL || len == 0 || len > FWC_AGENT_BLOCK_SIZE || erase_unit == 0 ||
	    off % FWC_AGENT_BLOCK_SIZE != 0 || off >= slot_size || len > slot_size - off)
		return FWC_ERR_ARG;
	if (off % erase_unit == 0) {
		uint64_t elen =
		    erase_unit > FWC_AGENT_BLOCK_SIZE ? erase_unit : FWC_AGENT_BLOCK_SIZE;

		if (elen > slot_size - off)
			elen = slot_size - off;
		if ((rc = fwc_port_slot_erase(port, slot, off, elen)) < 0)
			return rc;
	}
	return fwc_port_slot_write(port, slot, off, data, len);
}

int fwc_agent_slot_hash(struct fwc_port *port, struct fwc_port_sha256 *h, uint8_t out[32],
                        uint8_t *buf, size_t cap, uint8_t slot, uint64_t size)
{
	uint8_t digest[32];
	uint64_t off = 0;
	int rc, rc2;

	if (h == NULL || out == NULL || buf == NULL || cap == 0)
		return FWC_ERR_ARG;
	if ((rc = fwc_port_sha256_init(port, h)) < 0)
		return rc;
	while (off < size) {
		size_t n = size - off < cap ? (size_t)(size - off) : cap;

		if ((rc = fwc_port_slot_read(port, buf, n, slot, off)) < 0)
			break;
		if ((rc = fwc_port_sha256_update(port, h, buf, n)) < 0)
			break;
		off += n;
	}
	rc2 = fwc_port_sha256_final(port, h, digest);
	if (rc < 0)
		return rc;
	if (rc2 < 0)
		return rc2;
	memcpy(out, digest, 32);
	return FWC_OK;
}
