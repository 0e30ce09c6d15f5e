/* A small HTTP/1.1 server on 127.0.0.1 for the agent's end-to-end tests, forked by the test:
 * it serves what the test puts into a folder, so one test can play node, gateway and attacker.
 *
 *   GET  /v1/updates?...         the file "updates" (404 when absent); the request target is
 *                                appended to "requests"
 *   GET  /ipfs/<cid>?format=raw  the file "raw-<cid>" (a block), and
 *   GET  /ipfs/<cid>             the file "flat-<cid>" (the image), both honouring
 *                                "Range: bytes=A-B" with 206; with a file "flood" present it
 *                                sends 64 KiB of junk after a requested range that ends inside
 *                                the file (a source sending more than asked)
 *   POST /v1/txs                 the body is stored as "posted-<n>" and "posted-last"; the
 *                                answer is the file "post-answer" ("<status> <body>"), which
 *                                is then removed (one answer per file); 503 while a file
 *                                "post-block" exists; else 202
 *   anything else                404
 *
 * One request per connection. The server runs until the test calls http_stop() (and at most
 * 300 s, whatever happens to the test). */
#ifndef FWAGENT_TEST_HTTP_SERVER_H
#define FWAGENT_TEST_HTTP_SERVER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct http_server {
	pid_t pid;
	unsigned port;
	char dir[512];
	char url[64]; /* "http://127.0.0.1:<port>" */
};

static inline int hs_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static inline uint8_t *hs_load(const char *dir, const char *name, size_t *len)
{
	char path[1024];
	FILE *f;
	uint8_t *buf = NULL;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf != NULL)
		*len = (size_t)n;
	fclose(f);
	return buf;
}

static inline void hs_append(const char *dir, const char *name, const void *p, size_t n)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "ab")) != NULL) {
		fwrite(p, 1, n, f);
		fclose(f);
	}
}

static inline void hs_answer(int c, int status, const void *body, size_t len, const void *extra,
                             size_t extra_len)
{
	char hdr[256];
	int n = snprintf(hdr, sizeof(hdr),
	                 "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
	                 status, len + extra_len);

	if (hs_write_all(c, hdr, (size_t)n) == 0 && len > 0 && hs_write_all(c, body, len) == 0 &&
	    extra_len > 0)
		(void)hs_write_all(c, extra, extra_len);
}

static inline void hs_serve(const char *dir, int c, unsigned *posts)
{
	static char req[65536 + 8192];
	char target[2048], name[1200];
	size_t n = 0, len = 0;
	char *end = NULL, *body;
	long a = -1, b = -1, clen = 0;
	uint8_t *file;
	int flat = 0;

	req[0] = '\0';
	while (n < sizeof(req) - 1 && (end = strstr(req, "\r\n\r\n")) == NULL) {
		ssize_t r = read(c, req + n, sizeof(req) - 1 - n);

		if (r <= 0)
			return;
		n += (size_t)r;
		req[n] = '\0';
	}
	if (end == NULL || sscanf(req, "%*s %2047s", target) != 1)
		return;
	{
		const char *rg = strstr(req, "Range: bytes=");
		const char *cl = strstr(req, "Content-Length: ");

		if (rg != NULL)
			sscanf(rg, "Range: bytes=%ld-%ld", &a, &b);
		if (cl != NULL)
			clen = atol(cl + 16);
	}
	body = end + 4;
	if (strncmp(req, "POST /v1/txs ", 13) == 0) {
		size_t have = n - (size_t)(body - req);
		uint8_t *ans;
		int status = 202;

		while ((long)have < clen && (size_t)(body - req) + have < sizeof(req) - 1) {
			ssize_t r =
			    read(c, body + have, sizeof(req) - 1 - (size_t)(body - req) - have);

			if (r <= 0)
				break;
			have += (size_t)r;
		}
		snprintf(name, sizeof(name), "posted-%u", (*posts)++);
		hs_append(dir, name, body, have);
		snprintf(name, sizeof(name), "%s/posted-last", dir);
		unlink(name);
		hs_append(dir, "posted-last", body, have);
		if ((ans = hs_load(dir, "post-block", &len)) != NULL) {
			free(ans);
			hs_answer(c, 503, "{\"code\":\"busy\"}", 15, NULL, 0);
			return;
		}
		if ((ans = hs_load(dir, "post-answer", &len)) != NULL) {
			char *sp = memchr(ans, ' ', len);

			snprintf(name, sizeof(name), "%s/post-answer", dir);
			unlink(name);
			status = atoi((char *)ans);
			if (sp != NULL)
				hs_answer(c, status, sp + 1, len - (size_t)(sp + 1 - (char *)ans),
				          NULL, 0);
			free(ans);
			return;
		}
		hs_answer(c, status, "{\"status\":\"pending\"}", 20, NULL, 0);
		return;
	}
	if (strncmp(req, "GET ", 4) != 0) {
		hs_answer(c, 405, NULL, 0, NULL, 0);
		return;
	}
	if (strncmp(target, "/v1/updates?", 12) == 0) {
		hs_append(dir, "requests", target, strlen(target));
		hs_append(dir, "requests", "\n", 1);
		file = hs_load(dir, "updates", &len);
	} else if (strncmp(target, "/ipfs/", 6) == 0 && strlen(target) < 1100) {
		char *q = strchr(target + 6, '?');

		hs_append(dir, "requests", target, strlen(target));
		if (q != NULL && strcmp(q, "?format=raw") == 0) {
			*q = '\0';
			snprintf(name, sizeof(name), "raw-%s", target + 6);
			flat = 1; /* a block is served in ranges like a file */
		} else if (q == NULL) {
			snprintf(name, sizeof(name), "flat-%s", target + 6);
			flat = 1;
		} else {
			name[0] = '\0';
		}
		{
			char rg[64];
			int m = snprintf(rg, sizeof(rg), " %ld-%ld\n", a, b);

			hs_append(dir, "requests", rg, (size_t)m);
		}
		file = name[0] ? hs_load(dir, name, &len) : NULL;
	} else {
		file = NULL;
	}
	if (file == NULL) {
		hs_answer(c, 404, NULL, 0, NULL, 0);
		return;
	}
	if (a >= 0 && b >= a) {
		static uint8_t junk[65536];
		size_t from = (size_t)a, to = (size_t)b + 1;
		/* only after a range that ends inside the file: the junk then stands for bytes
		 * the agent did not ask for (after a whole block it would look like a longer one) */
		uint8_t *flood = flat && (size_t)b + 1 < len ? hs_load(dir, "flood", &n) : NULL;

		free(flood);
		memset(junk, 0xA5, sizeof(junk));
		if (from >= len) {
			hs_answer(c, 416, NULL, 0, NULL, 0);
		} else {
			if (to > len)
				to = len;
			hs_answer(c, 206, file + from, to - from, flood ? junk : NULL,
			          flood ? sizeof(junk) : 0);
		}
	} else {
		hs_answer(c, 200, file, len, NULL, 0);
	}
	free(file);
}

/* Start serving dir (which must exist). Returns 0 on success. */
static inline int http_start(struct http_server *hs, const char *dir)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	memset(hs, 0, sizeof(*hs));
	snprintf(hs->dir, sizeof(hs->dir), "%s", dir);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(s, 64) != 0 ||
	    getsockname(s, (struct sockaddr *)&sa, &sl) != 0)
		return -1;
	hs->port = ntohs(sa.sin_port);
	snprintf(hs->url, sizeof(hs->url), "http://127.0.0.1:%u", hs->port);
	hs->pid = fork();
	if (hs->pid == 0) {
		unsigned posts = 0;

		alarm(300); /* bounded even if the test dies */
		signal(SIGPIPE, SIG_IGN);
		for (;;) {
			int c = accept(s, NULL, NULL);

			if (c < 0)
				_exit(1);
			hs_serve(hs->dir, c, &posts);
			close(c);
		}
	}
	close(s);
	return hs->pid > 0 ? 0 : -1;
}

static inline void http_stop(struct http_server *hs)
{
	int st;

	if (hs->pid > 0) {
		kill(hs->pid, SIGTERM);
		waitpid(hs->pid, &st, 0);
		hs->pid = 0;
	}
}

/* Put bytes into the served folder as name (replacing it); remove it with NULL. */
static inline int http_put(struct http_server *hs, const char *name, const void *p, size_t n)
{
	char path[1024];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", hs->dir, name);
	if (p == NULL) {
		unlink(path);
		return 0;
	}
	if ((f = fopen(path, "wb")) == NULL)
		return -1;
	ok = fwrite(p, 1, n, f) == n;
	return fclose(f) == 0 && ok ? 0 : -1;
}

#endif
