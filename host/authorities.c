/* authorities.c -- the sources this node asks for the time, from quorum.conf: their
 * addresses, their public keys and key ids, and n and f of the agreement rule. */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timecore-internal.h"
#include "util-internal.h"

int authorities_load(struct authority_table *table, const struct conf *conf, char *why,
		     size_t why_size)
{
	memset(table, 0, sizeof(*table));
	table->items = calloc(conf->authority_count + 1, sizeof(*table->items));
	if (table->items == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < conf->authority_count; i++) {
		const struct conf_authority *c = &conf->authorities[i];
		struct authority *a = &table->items[i];
		struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
					  .ai_socktype = SOCK_DGRAM };
		struct addrinfo *res = NULL;
		char port[8], detail[ERRBUF_SIZE];

		table->count++;
		a->id = c->id;
		a->type = c->type;
		snprintf(port, sizeof(port), "%u", c->port);
		if (getaddrinfo(c->address, port, &hints, &res) != 0) {
			errbuf_set(why, why_size, "%s:%d: authority '%s': bad address %s", c->file,
				   c->line, c->id, c->address);
			return -EINVAL;
		}
		memcpy(&a->address, res->ai_addr, res->ai_addrlen);
		a->address_len = res->ai_addrlen;
		freeaddrinfo(res);
		if (c->type == QUORUM_AUTHORITY_NTP) {
			table->ntp++;
			continue;
		}
		table->n++;
		if (key_load_public(c->key, &a->key, detail, sizeof(detail)) != 0 ||
		    key_id(a->key, a->key_id) != 0) {
			errbuf_set(why, why_size, "%s:%d: authority '%s': %s", c->file, c->line, c->id,
				   detail);
			return -EINVAL;
		}
	}
	table->f = table->n > 0 ? (table->n - 1) / 3 : 0;
	return 0;
}

struct authority *authorities_find(const struct authority_table *table, const char *id)
{
	for (size_t i = 0; i < table->count; i++) {
		if (strcmp(table->items[i].id, id) == 0)
			return &table->items[i];
	}
	return NULL;
}

void authorities_release(struct authority_table *table)
{
	for (size_t i = 0; i < table->count; i++)
		EVP_PKEY_free(table->items[i].key);
	free(table->items);
	memset(table, 0, sizeof(*table));
}
