/* The ledger-format-dependent steps of the agent (check-in, decision, report), as hooks.
 *
 * The proof-bundle and device-event formats are not fixed yet, so these functions refuse with
 * FWC_ERR_UNSUPPORTED. They must never be stubbed as success: an agent that accepted an offer
 * without verifying its proof bundle would install anything. The install path is tested
 * through fwc_agent_test_offer(), which exists only in the test build of the core. */
#include "hooks.h"

int fwc_agent_hook_checkin(struct fwc_agent *ctx)
{
	if (ctx == NULL)
		return FWC_ERR_ARG;
	fwc_port_log(ctx->port, FWC_LOG_DEBUG, "check-in not implemented yet", 0, 0);
	return FWC_ERR_UNSUPPORTED;
}

int fwc_agent_hook_decide(struct fwc_agent *ctx)
{
	if (ctx == NULL)
		return FWC_ERR_ARG;
	return FWC_ERR_UNSUPPORTED;
}

int fwc_agent_hook_report(struct fwc_agent *ctx)
{
	if (ctx == NULL)
		return FWC_ERR_ARG;
	fwc_port_log(ctx->port, FWC_LOG_DEBUG, "event report not implemented yet",
	             ctx->store.cur.event_count, 0);
	return FWC_ERR_UNSUPPORTED;
}
