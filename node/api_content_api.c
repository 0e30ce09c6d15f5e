/* fwchaind content endpoints with the node's struct node_api as their context: thin wrappers
 * over node/api_content.c's handlers (which take the struct node_content), kept apart so that
 * file need not see node/api.h (whose chain.h and the state machine's state.h both define a
 * struct node_refusal). A node without a content store answers 503. */
#include "api.h"
#include "api_content.h"

static struct node_content *api_content(void *ctx, struct node_http_response *resp)
{
	struct node_api *api = ctx;

	if (api == NULL || api->content == NULL) {
		node_http_respond_error(resp, 503, "content_unavailable",
		                        "this node has no content store");
		return NULL;
	}
	return api->content;
}

#define API_WRAP(name, fn)                                                                         \
	void name(void *ctx, struct node_http_response *resp, const struct node_http_request *req) \
	{                                                                                          \
		struct node_content *c = api_content(ctx, resp);                                   \
		if (c)                                                                             \
			fn(c, resp, req);                                                          \
	}

API_WRAP(node_api_c_ipfs, node_content_h_ipfs)
API_WRAP(node_api_c_pins, node_content_h_pins)
API_WRAP(node_api_c_pin_add, node_content_h_pin_add)
API_WRAP(node_api_c_pin_remove, node_content_h_pin_remove)
API_WRAP(node_api_c_gc, node_content_h_gc)
API_WRAP(node_api_c_status, node_content_h_status)
API_WRAP(node_api_c_replication, node_content_h_replication)

static void *api_up_begin(void *ctx, struct node_http_response *resp,
                          const struct node_http_request *req)
{
	struct node_api *api = ctx;

	return node_content_up_begin(api ? api->content : NULL, resp, req);
}

const struct node_http_upload_route node_api_uploads[] = {
    {"POST", "/v1/content", NODE_CONTENT_UPLOAD_MAX_BODY, api_up_begin, node_content_up_data,
     node_content_up_end, node_content_up_release},
    NODE_API_TX_UPLOADS,
};
const size_t node_api_nuploads = sizeof(node_api_uploads) / sizeof(node_api_uploads[0]);
