/* Simulated reset of a POSIX device: the boot loader's decision, then a fresh agent.
 *
 * On hardware a reset runs the boot loader (which applies fwc_agent_boot_select() to the
 * record) and then the chosen image, whose agent starts with fwc_agent_init(). Here both run in
 * the calling process, one after the other, each with a context built from nothing but what is
 * in the device directory: whatever the agent held in RAM before the "reset" is gone, which is
 * exactly what the power-loss tests need. */
#include "port_posix.h"

int fwc_posix_power_on(struct fwc_agent *ctx, uint8_t *slot, struct fwc_port *port,
                       const struct fwc_agent_provision *prov)
{
	uint8_t s = FWC_SLOT_NONE;
	int rc;

	if (ctx == NULL || port == NULL)
		return FWC_ERR_ARG;
	port->reboot_requested = false;
	port->running_slot = FWC_SLOT_NONE;
	if ((rc = fwc_agent_boot_select(ctx, &s, port, prov)) < 0)
		return rc;
	port->running_slot = s;
	if ((rc = fwc_agent_init(ctx, port, prov)) < 0)
		return rc;
	if (slot != NULL)
		*slot = s;
	return FWC_OK;
}
