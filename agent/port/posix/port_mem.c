/* The POSIX port's memory backend: a device's slots and record areas in RAM, for the fleet
 * simulator (`fwagent sim`), where 10,000 devices with two 1 MiB slots each would need 20 GB of
 * files.
 *
 * Main design choice: a slot is copy-on-write over a shared image. Until the agent erases or
 * programs it, a slot reads as a read-only image shared by the fleet (then 0xFF) or as erased;
 * its first mutation copies that into the device's own buffer, which the agent then writes and
 * reads back for real (its chunk, image and boot hashes run over these bytes). When a device
 * is done, fwc_posix_mem_share() compares its own buffers with the shared images and frees
 * those that equal one, so memory grows with the devices in flight, not with the fleet. The
 * flash rules (erased = 0xFF, strict programming) and the power-loss gate are port_posix.c's,
 * applied before these functions are called. */
#include "port_posix.h"

#include <stdlib.h>
#include <string.h>

/* Byte view of a slot without an own buffer: shared image, then erased. */
static void view_read(const struct fwc_posix_image *img, uint8_t *buf, size_t len, uint64_t off)
{
	size_t n = 0;

	if (img != NULL && off < img->len) {
		n = img->len - off < len ? (size_t)(img->len - off) : len;
		memcpy(buf, img->data + off, n);
	}
	memset(buf + n, 0xFF, len - n);
}

/* The slot's own buffer, made from its current view at the first mutation. */
static uint8_t *own_of(struct fwc_port *port, uint8_t slot)
{
	struct fwc_posix_mem *m = port->mem;

	if (m->own[slot] == NULL) {
		uint8_t *b = malloc((size_t)port->slot_size);

		if (b == NULL)
			return NULL;
		view_read(m->shared[slot], b, (size_t)port->slot_size, 0);
		m->own[slot] = b;
		m->shared[slot] = NULL;
	}
	return m->own[slot];
}

int fwc_posix_mem_slot_read(struct fwc_port *port, uint8_t *buf, size_t len, uint8_t slot,
                            uint64_t off)
{
	struct fwc_posix_mem *m = port->mem;

	if (m->own[slot] != NULL)
		memcpy(buf, m->own[slot] + off, len);
	else
		view_read(m->shared[slot], buf, len, off);
	return FWC_OK;
}

int fwc_posix_mem_slot_write(struct fwc_port *port, uint8_t slot, uint64_t off, const uint8_t *data,
                             size_t len)
{
	uint8_t *b = own_of(port, slot);

	if (b == NULL)
		return FWC_ERR_NOMEM;
	memcpy(b + off, data, len);
	return FWC_OK;
}

int fwc_posix_mem_slot_fill(struct fwc_port *port, uint8_t slot, uint64_t off, uint64_t len)
{
	struct fwc_posix_mem *m = port->mem;
	uint8_t *b;

	/* erasing a whole slot that has no own buffer needs none */
	if (m->own[slot] == NULL && off == 0 && len == port->slot_size) {
		m->shared[slot] = NULL;
		return FWC_OK;
	}
	if ((b = own_of(port, slot)) == NULL)
		return FWC_ERR_NOMEM;
	memset(b + off, 0xFF, (size_t)len);
	return FWC_OK;
}

int fwc_posix_mem_record_read(struct fwc_port *port, uint8_t *buf, size_t cap, size_t *got,
                              uint8_t copy)
{
	struct fwc_posix_mem *m = port->mem;
	size_t n = m->record_len[copy] < cap ? m->record_len[copy] : cap;

	memcpy(buf, m->record[copy], n);
	*got = n;
	return FWC_OK;
}

int fwc_posix_mem_record_write(struct fwc_port *port, uint8_t copy, const uint8_t *data, size_t len,
                               size_t allowed)
{
	struct fwc_posix_mem *m = port->mem;

	/* in place, like the files: a torn write leaves new bytes, then old ones */
	memcpy(m->record[copy], data, allowed);
	if (allowed == len)
		m->record_len[copy] = (uint16_t)len;
	else if (m->record_len[copy] < allowed)
		m->record_len[copy] = (uint16_t)allowed;
	return FWC_OK;
}

int fwc_posix_mem_open(struct fwc_port *port, struct fwc_posix_mem *mem, const char *label,
                       uint64_t slot_size, uint32_t erase_unit)
{
	if (port == NULL || mem == NULL || label == NULL || erase_unit == 0 ||
	    (erase_unit & (erase_unit - 1)) != 0 || slot_size == 0 || slot_size % erase_unit != 0 ||
	    slot_size > SIZE_MAX || strlen(label) >= sizeof(port->dir))
		return FWC_ERR_ARG;
	memset(port, 0, sizeof(*port));
	port->slot_fd[0] = port->slot_fd[1] = port->record_fd[0] = port->record_fd[1] = -1;
	port->running_slot = FWC_SLOT_NONE;
	port->strict_flash = true;
	port->cut_at = -1;
	port->log_level = FWC_LOG_WARN;
	strcpy(port->dir, label);
	port->slot_size = slot_size;
	port->erase_unit = erase_unit;
	port->mem = mem;
	return FWC_OK;
}

void fwc_posix_mem_release(struct fwc_posix_mem *mem)
{
	if (mem == NULL)
		return;
	for (int s = 0; s < 2; s++) {
		free(mem->own[s]);
		mem->own[s] = NULL;
	}
}

static bool equals_image(const uint8_t *b, uint64_t slot_size, const struct fwc_posix_image *img)
{
	if (img->len > slot_size || memcmp(b, img->data, img->len) != 0)
		return false;
	for (uint64_t i = img->len; i < slot_size; i++)
		if (b[i] != 0xFF)
			return false;
	return true;
}

int fwc_posix_mem_share(struct fwc_posix_mem *mem, uint64_t slot_size,
                        const struct fwc_posix_image *images, size_t n)
{
	int left = 0;

	if (mem == NULL)
		return 0;
	for (int s = 0; s < 2; s++) {
		if (mem->own[s] == NULL)
			continue;
		for (size_t i = 0; i < n && mem->own[s] != NULL; i++) {
			if (equals_image(mem->own[s], slot_size, &images[i])) {
				free(mem->own[s]);
				mem->own[s] = NULL;
				mem->shared[s] = &images[i];
			}
		}
		left += mem->own[s] != NULL;
	}
	return left;
}
