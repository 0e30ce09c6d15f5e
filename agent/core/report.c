/* REPORT: the device's queued events, signed with the device key and sent to the ledger.
 * (Not implemented yet: events stay queued.) */
#include "hooks.h"

int fwc_agent_hook_report(struct fwc_agent *ctx)
{
	if (ctx == NULL)
		return FWC_ERR_ARG;
	fwc_port_log(ctx->port, FWC_LOG_DEBUG, "event report not implemented yet",
	             ctx->store.cur.event_count, 0);
	return FWC_ERR_UNSUPPORTED;
}
