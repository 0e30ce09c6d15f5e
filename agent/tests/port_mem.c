/* Tests of the POSIX port's memory backend (agent/port/posix/port_mem.c), through the port
 * functions the core calls: a slot over a shared image reads as that image then erased bytes;
 * the first program or erase copies it, leaving the shared image untouched; the flash rule
 * (no programming of unerased bytes) holds; a whole-slot erase drops the copy; record areas
 * keep what was written, and a torn record write leaves new bytes then old ones; sharing frees
 * a buffer equal to an image and keeps one that differs. The expected bytes are built here
 * byte by byte, independently of the backend. */
#include <stdlib.h>
#include <string.h>

#include "port_posix.h"
#include "test.h"

#define SLOT 65536u
#define UNIT 4096u

static uint8_t image_bytes[10000];

static void test_shared_view_and_copy_on_write(void)
{
	struct fwc_posix_image img = {image_bytes, sizeof(image_bytes)};
	static struct fwc_posix_mem mem;
	struct fwc_port port;
	uint8_t buf[UNIT], want[UNIT], block[UNIT];

	memset(&mem, 0, sizeof(mem));
	mem.shared[0] = &img;
	CHECK_RC(fwc_posix_mem_open(&port, &mem, "t", SLOT, UNIT), FWC_OK);
	/* bytes 8192..12287: the image's last 1808 bytes, then erased */
	CHECK_RC(fwc_port_slot_read(&port, buf, sizeof(buf), 0, 8192), FWC_OK);
	memcpy(want, image_bytes + 8192, 10000 - 8192);
	memset(want + (10000 - 8192), 0xFF, sizeof(want) - (10000 - 8192));
	CHECK_MEM(buf, want, sizeof(want));
	CHECK(mem.own[0] == NULL);
	/* slot B is erased */
	CHECK_RC(fwc_port_slot_read(&port, buf, sizeof(buf), 1, 0), FWC_OK);
	memset(want, 0xFF, sizeof(want));
	CHECK_MEM(buf, want, sizeof(want));
	/* programming over the image is refused (unerased); after erasing the unit it works */
	memset(block, 0x42, sizeof(block));
	CHECK_RC(fwc_port_slot_write(&port, 0, 0, block, sizeof(block)), FWC_ERR_IO);
	CHECK_RC(fwc_port_slot_erase(&port, 0, 0, UNIT), FWC_OK);
	CHECK(mem.own[0] != NULL);
	CHECK_RC(fwc_port_slot_write(&port, 0, 0, block, sizeof(block)), FWC_OK);
	CHECK_RC(fwc_port_slot_read(&port, buf, sizeof(buf), 0, 0), FWC_OK);
	CHECK_MEM(buf, block, sizeof(block));
	/* the rest of the copy is still the image; the shared image itself is unchanged */
	CHECK_RC(fwc_port_slot_read(&port, buf, 100, 0, UNIT), FWC_OK);
	CHECK_MEM(buf, image_bytes + UNIT, 100);
	CHECK(image_bytes[0] == 0 && image_bytes[1] == 7);
	/* the copy is not the image any more: sharing keeps it */
	CHECK(fwc_posix_mem_share(&mem, SLOT, &img, 1) == 1);
	/* put the image's first unit back: now it equals the image and is freed */
	CHECK_RC(fwc_port_slot_erase(&port, 0, 0, UNIT), FWC_OK);
	CHECK_RC(fwc_port_slot_write(&port, 0, 0, image_bytes, UNIT), FWC_OK);
	CHECK(fwc_posix_mem_share(&mem, SLOT, &img, 1) == 0);
	CHECK(mem.own[0] == NULL && mem.shared[0] == &img);
	/* erasing the whole slot needs no buffer */
	CHECK_RC(fwc_port_slot_erase(&port, 0, 0, SLOT), FWC_OK);
	CHECK(mem.own[0] == NULL && mem.shared[0] == NULL);
	CHECK_RC(fwc_port_slot_read(&port, buf, sizeof(buf), 0, 0), FWC_OK);
	CHECK_MEM(buf, want, sizeof(want));
	fwc_posix_close(&port);
	fwc_posix_mem_release(&mem);
}

static void test_records_and_power_loss(void)
{
	static struct fwc_posix_mem mem;
	struct fwc_port port;
	uint8_t a[300], b[300], buf[FWC_AGENT_RECORD_MAX];
	size_t got = 0;

	memset(&mem, 0, sizeof(mem));
	memset(a, 0xA1, sizeof(a));
	memset(b, 0xB2, sizeof(b));
	CHECK_RC(fwc_posix_mem_open(&port, &mem, "t", SLOT, UNIT), FWC_OK);
	CHECK_RC(fwc_port_record_read(&port, buf, sizeof(buf), &got, 1), FWC_OK);
	CHECK(got == 0);
	CHECK_RC(fwc_port_record_write(&port, 1, a, sizeof(a)), FWC_OK);
	CHECK_RC(fwc_port_record_read(&port, buf, sizeof(buf), &got, 1), FWC_OK);
	CHECK(got == sizeof(a));
	CHECK_MEM(buf, a, sizeof(a));
	/* the next storage operation is cut: everything but the call fails */
	port.cut_at = port.ops;
	port.tear = FWC_POSIX_TEAR_NONE;
	CHECK_RC(fwc_port_record_write(&port, 1, b, sizeof(b)), FWC_ERR_IO);
	CHECK_RC(fwc_port_slot_erase(&port, 1, 0, UNIT), FWC_ERR_IO); /* power is gone */
	port.power_lost = false;                                      /* "reopened" */
	port.cut_at = -1;
	CHECK_RC(fwc_port_record_read(&port, buf, sizeof(buf), &got, 1), FWC_OK);
	CHECK(got == sizeof(a));
	CHECK_MEM(buf, a, sizeof(a));
	/* a random tear: a prefix of the new bytes, then the old ones */
	port.cut_at = port.ops;
	port.tear = FWC_POSIX_TEAR_RANDOM;
	CHECK_RC(fwc_port_record_write(&port, 1, b, sizeof(b)), FWC_ERR_IO);
	port.power_lost = false;
	port.cut_at = -1;
	CHECK_RC(fwc_port_record_read(&port, buf, sizeof(buf), &got, 1), FWC_OK);
	CHECK(got == sizeof(a));
	{
		size_t k = 0;

		while (k < got && buf[k] == 0xB2)
			k++;
		for (size_t i = k; i < got; i++)
			CHECK(buf[i] == 0xA1);
	}
	/* the other area was never touched */
	CHECK_RC(fwc_port_record_read(&port, buf, sizeof(buf), &got, 0), FWC_OK);
	CHECK(got == 0);
	fwc_posix_close(&port);
	fwc_posix_mem_release(&mem);
}

int main(void)
{
	for (size_t i = 0; i < sizeof(image_bytes); i++)
		image_bytes[i] = (uint8_t)(i * 7);
	RUN(test_shared_view_and_copy_on_write);
	RUN(test_records_and_power_loss);
	return test_done();
}
