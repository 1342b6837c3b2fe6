/* sFlow v5 datagrams into records. */
#include "decode/flow.h"

int dr_sflow_init(struct dr_flow_decoder *f)
{
	(void)f;
	return 0;
}

void dr_sflow_fini(struct dr_flow_decoder *f)
{
	(void)f;
}

size_t dr_sflow_mem(const struct dr_flow_decoder *f)
{
	(void)f;
	return 0;
}

void dr_sflow_datagram(struct dr_flow_decoder *f, const uint8_t *data, size_t len)
{
	(void)data;
	(void)len;
	f->stats.sflow++;
	f->stats.bad_datagram++;
}
