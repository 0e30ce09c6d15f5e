/* Tests the POSIX port (agent/port/posix/) against the contract in fwagent/port.h: SHA-256
 * (FIPS 180-2 answers), BIP-340 verification over every official test vector, Ed25519 (RFC
 * 8032 test 1), device signing, flash semantics of the slots, the record areas, the power-loss
 * injector's three tear modes, the clock, the health check (marker file and command), and the
 * transport: file:// ranges, and http:// against a small HTTP/1.1 server on 127.0.0.1 forked by
 * this test (ranges, 404, a server ignoring the range, a server sending too much, POST). */
#include "agent_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

static char dir[256];
static struct fwc_port port;

static void test_sha256(void)
{
	static const uint8_t abc[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
	                                0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
	                                0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
	                                0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
	static const uint8_t two_blocks[32] = {/* "abcdbcde...nopq", FIPS 180-2 B.2 */
	                                       0x24, 0x8d, 0x6a, 0x61, 0xd2, 0x06, 0x38, 0xb8,
	                                       0xe5, 0xc0, 0x26, 0x93, 0x0c, 0x3e, 0x60, 0x39,
	                                       0xa3, 0x3c, 0xe4, 0x59, 0x64, 0xff, 0x21, 0x67,
	                                       0xf6, 0xec, 0xed, 0xd4, 0x19, 0xdb, 0x06, 0xc1};
	const char *m2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	struct fwc_port_sha256 h;
	uint8_t out[32];

	CHECK_RC(fwc_port_sha256_init(&port, &h), FWC_OK);
	CHECK_RC(fwc_port_sha256_update(&port, &h, "a", 1), FWC_OK);
	CHECK_RC(fwc_port_sha256_update(&port, &h, NULL, 0), FWC_OK);
	CHECK_RC(fwc_port_sha256_update(&port, &h, "bc", 2), FWC_OK);
	CHECK_RC(fwc_port_sha256_final(&port, &h, out), FWC_OK);
	CHECK_MEM(out, abc, 32);
	CHECK_RC(fwc_port_sha256_init(&port, &h), FWC_OK);
	CHECK_RC(fwc_port_sha256_update(&port, &h, m2, strlen(m2)), FWC_OK);
	CHECK_RC(fwc_port_sha256_final(&port, &h, out), FWC_OK);
	CHECK_MEM(out, two_blocks, 32);
}

static void test_random(void)
{
	uint8_t a[64], b[64], zero[64] = {0};

	CHECK_RC(fwc_port_random(&port, a, sizeof(a)), FWC_OK);
	CHECK_RC(fwc_port_random(&port, b, sizeof(b)), FWC_OK);
	CHECK(memcmp(a, b, sizeof(a)) != 0 && memcmp(a, zero, sizeof(a)) != 0);
	CHECK_RC(fwc_port_random(&port, NULL, 0), FWC_OK);
}

/* Every BIP-340 vector (tests/vectors/bip340-test-vectors.csv) through the port. */
static void test_bip340_vectors(void)
{
	char path[512], line[1024];
	FILE *f = fopen(test_vector_path(path, sizeof(path), "bip340-test-vectors.csv"), "r");
	int n = 0, bad = 0;

	CHECK(f != NULL);
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *field[8] = {0};
		uint8_t pub[32], msg[256], sig[64];
		size_t msglen;
		int k = 0, rc;

		if (strncmp(line, "index", 5) == 0)
			continue;
		for (char *p = line; k < 8 && p != NULL; k++) {
			field[k] = p;
			p = strchr(p, ',');
			if (p != NULL)
				*p++ = '\0';
		}
		if (k < 7 || strlen(field[2]) != 64 || strlen(field[5]) != 128)
			continue;
		test_unhex(pub, sizeof(pub), field[2]);
		msglen = test_unhex(msg, sizeof(msg), field[4]);
		test_unhex(sig, sizeof(sig), field[5]);
		rc = fwc_port_bip340_verify(&port, pub, sig, msg, msglen);
		if (strncmp(field[6], "TRUE", 4) == 0)
			bad += rc != FWC_PORT_VALID;
		else
			bad += rc != FWC_ERR_BADSIG;
		n++;
	}
	fclose(f);
	CHECK(n >= 15);
	CHECK(bad == 0);
}

static void test_ed25519(void)
{
	/* RFC 8032 section 7.1, TEST 1 (empty message) */
	uint8_t pub[32], sig[64];

	test_unhex(pub, 32, "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
	test_unhex(sig, 64,
	           "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb882159"
	           "0a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
	CHECK_RC(fwc_port_ed25519_verify(&port, pub, sig, NULL, 0), FWC_PORT_VALID);
	sig[10] ^= 1;
	CHECK_RC(fwc_port_ed25519_verify(&port, pub, sig, NULL, 0), FWC_ERR_BADSIG);
}

static void test_device_key(void)
{
	uint8_t pub[32], sig[64], msg[32];

	fwc_tagged_hash(msg, FWC_TAG_EVENT, "event", 5);
	CHECK_RC(fwc_port_device_pubkey(&port, pub), FWC_OK);
	CHECK_RC(fwc_port_device_sign(&port, sig, msg), FWC_OK);
	CHECK_RC(fwc_port_bip340_verify(&port, pub, sig, msg, 32), FWC_PORT_VALID);
	msg[0] ^= 1;
	CHECK_RC(fwc_port_bip340_verify(&port, pub, sig, msg, 32), FWC_ERR_BADSIG);
	/* the key survives reopening */
	{
		struct fwc_port p2;
		uint8_t pub2[32];

		CHECK_RC(test_open(&p2, dir), FWC_OK);
		CHECK_RC(fwc_port_device_pubkey(&p2, pub2), FWC_OK);
		CHECK_MEM(pub, pub2, 32);
		fwc_posix_close(&p2);
		CHECK_RC(fwc_port_device_sign(&p2, sig, msg), FWC_ERR_NOT_FOUND); /* wiped */
	}
}

static void test_slots(void)
{
	struct fwc_port_slot_info info;
	uint8_t buf[4096], data[4096];
	uint8_t slot;

	CHECK_RC(fwc_port_slot_info(&port, &info, FWC_SLOT_B), FWC_OK);
	CHECK(info.size == 65536 && info.erase_unit == 4096);
	CHECK_RC(fwc_port_slot_info(&port, &info, 2), FWC_ERR_ARG);
	CHECK_RC(fwc_port_slot_read(&port, buf, sizeof(buf), FWC_SLOT_B, 0), FWC_OK);
	CHECK(buf[0] == 0xFF && buf[4095] == 0xFF);
	test_pattern(data, sizeof(data), 5);
	CHECK_RC(fwc_port_slot_write(&port, FWC_SLOT_B, 8192, data, sizeof(data)), FWC_OK);
	CHECK_RC(fwc_port_slot_read(&port, buf, sizeof(buf), FWC_SLOT_B, 8192), FWC_OK);
	CHECK_MEM(buf, data, sizeof(data));
	/* flash: no second programming without an erase */
	CHECK_RC(fwc_port_slot_write(&port, FWC_SLOT_B, 8192, data, 16), FWC_ERR_IO);
	CHECK_RC(fwc_port_slot_erase(&port, FWC_SLOT_B, 8192, 4096), FWC_OK);
	CHECK_RC(fwc_port_slot_read(&port, buf, 16, FWC_SLOT_B, 8192), FWC_OK);
	CHECK(buf[0] == 0xFF && buf[15] == 0xFF);
	CHECK_RC(fwc_port_slot_write(&port, FWC_SLOT_B, 8192, data, 16), FWC_OK);
	/* alignment and bounds */
	CHECK_RC(fwc_port_slot_erase(&port, FWC_SLOT_B, 100, 4096), FWC_ERR_ARG);
	CHECK_RC(fwc_port_slot_erase(&port, FWC_SLOT_B, 0, 4000), FWC_ERR_ARG);
	CHECK_RC(fwc_port_slot_erase(&port, FWC_SLOT_B, 65536, 4096), FWC_ERR_ARG);
	CHECK_RC(fwc_port_slot_read(&port, buf, 2, FWC_SLOT_B, 65535), FWC_ERR_ARG);
	CHECK_RC(fwc_port_slot_write(&port, FWC_SLOT_A, 65535, data, 2), FWC_ERR_ARG);
	/* the running slot is unknown until a power-on set it */
	CHECK_RC(fwc_port_running_slot(&port, &slot), FWC_ERR_IO);
}

static void test_records(void)
{
	uint8_t buf[FWC_AGENT_RECORD_MAX], data[300];
	size_t got = 99;

	CHECK_RC(fwc_port_record_read(&port, buf, sizeof(buf), &got, 1), FWC_OK);
	CHECK(got == 0); /* never written */
	test_pattern(data, sizeof(data), 6);
	CHECK_RC(fwc_port_record_write(&port, 1, data, sizeof(data)), FWC_OK);
	CHECK_RC(fwc_port_record_write(&port, 0, data, 10), FWC_OK);
	CHECK_RC(fwc_port_record_read(&port, buf, sizeof(buf), &got, 1), FWC_OK);
	CHECK(got == sizeof(data) && memcmp(buf, data, got) == 0);
	CHECK_RC(fwc_port_record_write(&port, 1, data + 1, 20), FWC_OK); /* shrinks the area */
	CHECK_RC(fwc_port_record_read(&port, buf, sizeof(buf), &got, 1), FWC_OK);
	CHECK(got == 20 && memcmp(buf, data + 1, 20) == 0);
	CHECK_RC(fwc_port_record_read(&port, buf, sizeof(buf), &got, 0), FWC_OK);
	CHECK(got == 10);
	CHECK_RC(fwc_port_record_write(&port, 2, data, 10), FWC_ERR_ARG);
	CHECK_RC(fwc_port_record_write(&port, 0, data, FWC_AGENT_RECORD_MAX + 1), FWC_ERR_ARG);
}

/* The injector: the cut operation is torn as its mode says, every later one fails. */
static void test_power_cut(void)
{
	uint8_t data[4096], buf[4096], old[100], mix[100];
	size_t got = 0;

	test_pattern(data, sizeof(data), 7);
	for (int tear = 0; tear < 3; tear++) {
		struct fwc_port p;

		CHECK_RC(test_open(&p, dir), FWC_OK);
		CHECK_RC(fwc_port_slot_erase(&p, FWC_SLOT_A, 0, 4096), FWC_OK);
		CHECK_RC(fwc_port_record_write(&p, 0, data, 100), FWC_OK);
		CHECK(p.ops == 2);
		p.tear = tear;
		p.cut_at = 2;
		CHECK_RC(fwc_port_slot_write(&p, FWC_SLOT_A, 0, data, sizeof(data)), FWC_ERR_IO);
		CHECK(p.power_lost && p.ops == 3);
		CHECK_RC(fwc_port_record_write(&p, 0, data + 1, 100), FWC_ERR_IO);
		CHECK_RC(fwc_port_slot_erase(&p, FWC_SLOT_A, 0, 4096), FWC_ERR_IO);
		CHECK_RC(fwc_port_slot_read(&p, buf, 1, FWC_SLOT_A, 0), FWC_ERR_IO);
		CHECK(p.ops == 3); /* nothing is counted once the power is gone */
		fwc_posix_close(&p);
		CHECK_RC(test_open(&p, dir), FWC_OK); /* power back */
		CHECK_RC(fwc_port_slot_read(&p, buf, sizeof(buf), FWC_SLOT_A, 0), FWC_OK);
		if (tear == FWC_POSIX_TEAR_NONE) {
			CHECK(buf[0] == 0xFF && buf[4095] == 0xFF);
		} else if (tear == FWC_POSIX_TEAR_ALL) {
			CHECK_MEM(buf, data, sizeof(data));
		} else {
			/* op 2: a prefix of (3 * 2654435761) % 4097 bytes */
			size_t k = (size_t)((3ull * 2654435761u) % 4097u);

			CHECK(memcmp(buf, data, k) == 0);
			CHECK(k == 4096 || buf[k] == 0xFF);
		}
		/* the record area keeps the write before the cut */
		CHECK_RC(fwc_port_record_read(&p, buf, sizeof(buf), &got, 0), FWC_OK);
		CHECK(got == 100 && memcmp(buf, data, 100) == 0);
		fwc_posix_close(&p);
	}
	/* a torn record write: new bytes then old bytes */
	{
		struct fwc_port p;
		size_t k = (size_t)((1ull * 2654435761u) % 101u);

		CHECK_RC(test_open(&p, dir), FWC_OK);
		memcpy(old, data, 100);
		p.cut_at = 0;
		CHECK_RC(fwc_port_record_write(&p, 0, data + 500, 100), FWC_ERR_IO);
		fwc_posix_close(&p);
		CHECK_RC(test_open(&p, dir), FWC_OK);
		CHECK_RC(fwc_port_record_read(&p, mix, sizeof(mix), &got, 0), FWC_OK);
		CHECK(got == 100);
		CHECK(memcmp(mix, data + 500, k) == 0 && memcmp(mix + k, old + k, 100 - k) == 0);
		fwc_posix_close(&p);
	}
}

static void test_clock_and_health(void)
{
	char marker[400];
	uint64_t t = 0, u1, u2;

	CHECK(fwc_port_clock_now(&port, &t) && t > 1600000000u);
	port.no_clock = true;
	t = 5;
	CHECK(!fwc_port_clock_now(&port, &t) && t == 5);
	port.no_clock = false;
	u1 = fwc_port_uptime_ms(&port);
	port.uptime_skew_ms += 5000;
	u2 = fwc_port_uptime_ms(&port);
	CHECK(u2 >= u1 + 5000);

	CHECK_RC(fwc_port_health_check(&port, FWC_SLOT_B), FWC_PORT_HEALTHY);
	snprintf(marker, sizeof(marker), "%s/unhealthy-b", dir);
	CHECK(test_write_file(marker, (const uint8_t *)"x", 1) == 0);
	CHECK_RC(fwc_port_health_check(&port, FWC_SLOT_B), FWC_ERR_STATE);
	CHECK_RC(fwc_port_health_check(&port, FWC_SLOT_A), FWC_PORT_HEALTHY);
	unlink(marker);
	snprintf(port.health_cmd, sizeof(port.health_cmd), "test \"$FWC_AGENT_SLOT\" = b");
	CHECK_RC(fwc_port_health_check(&port, FWC_SLOT_B), FWC_PORT_HEALTHY);
	CHECK_RC(fwc_port_health_check(&port, FWC_SLOT_A), FWC_ERR_STATE);
	port.health_cmd[0] = '\0';
	fwc_port_reboot(&port);
	CHECK(port.reboot_requested);
}

/* ---- transport --------------------------------------------------------------------------- */

static uint8_t body[20000];

static void test_file_get(void)
{
	char path[400], url[450];
	uint8_t buf[5000];
	size_t got = 0;
	int n;

	test_pattern(body, sizeof(body), 8);
	snprintf(path, sizeof(path), "%s/content.bin", dir);
	CHECK(test_write_file(path, body, sizeof(body)) == 0);
	n = snprintf(url, sizeof(url), "file://%s", path);
	CHECK_RC(fwc_port_http_get(&port, buf, 5000, &got, url, (size_t)n, 12345), FWC_OK);
	CHECK(got == 5000 && memcmp(buf, body + 12345, 5000) == 0);
	CHECK_RC(fwc_port_http_get(&port, buf, 5000, &got, url, (size_t)n, 18000), FWC_OK);
	CHECK(got == 2000 && memcmp(buf, body + 18000, 2000) == 0);
	CHECK_RC(fwc_port_http_get(&port, buf, 10, &got, "file:///nonexistent/x", 21, 0),
	         FWC_ERR_NOT_FOUND);
	CHECK_RC(fwc_port_http_get(&port, buf, 10, &got, "ftp://x/y", 9, 0), FWC_ERR_UNSUPPORTED);
	CHECK_RC(fwc_port_http_get(&port, buf, 10, &got, "file:///a\0b", 11, 0), FWC_ERR_ARG);
	CHECK_RC(fwc_port_http_get(&port, buf, 10, &got, url, 0, 0), FWC_ERR_ARG);
}

/* A minimal HTTP/1.1 server for the transport test: one request per connection.
 *   GET /img      honours "Range: bytes=A-B" with 206, else 200 with everything
 *   GET /norange  ignores the range: 200 with everything
 *   GET /flood    206 with twice the requested length
 *   GET other     404
 *   POST /echo    200 with "ok:" and the request body
 *   POST /big     200 with 10000 bytes */
static void serve_one(int c)
{
	char req[8192], hdr[256];
	size_t n = 0;
	char *end = NULL;
	long a = -1, b = -1, clen = 0;
	const uint8_t *out = body;
	size_t olen = sizeof(body);
	int status = 200;

	req[0] = '\0';
	while (n < sizeof(req) - 1 && (end = strstr(req, "\r\n\r\n")) == NULL) {
		ssize_t r = read(c, req + n, sizeof(req) - 1 - n);

		if (r <= 0)
			return;
		n += (size_t)r;
		req[n] = '\0';
	}
	if (end == NULL)
		return;
	{
		const char *rg = strstr(req, "Range: bytes=");
		const char *cl = strstr(req, "Content-Length: ");

		if (rg != NULL)
			sscanf(rg, "Range: bytes=%ld-%ld", &a, &b);
		if (cl != NULL)
			clen = atol(cl + 16);
	}
	if (strncmp(req, "POST /echo ", 11) == 0) {
		static uint8_t echo[4096];
		size_t have = n - (size_t)(end + 4 - req), blen = 3;

		memcpy(echo, "ok:", 3);
		memcpy(echo + 3, end + 4, have);
		blen += have;
		while ((long)(blen - 3) < clen && blen < sizeof(echo)) {
			ssize_t r = read(c, echo + blen, sizeof(echo) - blen);

			if (r <= 0)
				break;
			blen += (size_t)r;
		}
		out = echo;
		olen = blen;
	} else if (strncmp(req, "POST /big ", 10) == 0) {
		olen = 10000;
	} else if (strncmp(req, "GET /img ", 9) == 0 && a >= 0 && b >= a) {
		status = 206;
		out = body + a;
		olen = (size_t)(b - a + 1);
	} else if (strncmp(req, "GET /flood ", 11) == 0 && a >= 0 && b >= a) {
		status = 206;
		out = body + a;
		olen = (size_t)(2 * (b - a + 1));
	} else if (strncmp(req, "GET /img ", 9) != 0 && strncmp(req, "GET /norange ", 13) != 0) {
		status = 404;
		olen = 0;
	}
	n = (size_t)snprintf(hdr, sizeof(hdr),
	                     "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
	                     status, olen);
	if (write(c, hdr, n) < 0 || (olen && write(c, out, olen) < 0))
		return;
}

static void test_http(void)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	char url[128];
	uint8_t buf[5000], resp[64];
	size_t got = 0, rlen = 0;
	int s = socket(AF_INET, SOCK_STREAM, 0), st = 0, n, status = 0;
	pid_t pid;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(s, 16) == 0);
	CHECK(getsockname(s, (struct sockaddr *)&sa, &sl) == 0);
	pid = fork();
	if (pid == 0) {
		alarm(20); /* bounded even if the parent dies */
		for (int i = 0; i < 8; i++) {
			int c = accept(s, NULL, NULL);

			if (c < 0)
				_exit(1);
			serve_one(c);
			close(c);
		}
		_exit(0);
	}
	close(s);
	CHECK(pid > 0);

#define URL(path)                                                                                  \
	(n = snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", ntohs(sa.sin_port), path),        \
	 (size_t)n)
	CHECK_RC(fwc_port_http_get(&port, buf, 5000, &got, url, URL("/img"), 4096), FWC_OK);
	CHECK(got == 5000 && memcmp(buf, body + 4096, 5000) == 0);
	CHECK_RC(fwc_port_http_get(&port, buf, 100, &got, url, URL("/missing"), 0),
	         FWC_ERR_NOT_FOUND);
	/* a server ignoring the range is usable only from offset 0 */
	CHECK_RC(fwc_port_http_get(&port, buf, 100, &got, url, URL("/norange"), 0), FWC_OK);
	CHECK(got == 100 && memcmp(buf, body, 100) == 0);
	CHECK_RC(fwc_port_http_get(&port, buf, 100, &got, url, URL("/norange"), 100), FWC_ERR_IO);
	/* too much data never overflows the buffer */
	memset(buf, 0xEE, sizeof(buf));
	CHECK_RC(fwc_port_http_get(&port, buf, 1000, &got, url, URL("/flood"), 0), FWC_OK);
	CHECK(got == 1000 && memcmp(buf, body, 1000) == 0 && buf[1000] == 0xEE);
	/* POST */
	CHECK_RC(fwc_port_http_post(&port, resp, sizeof(resp), &rlen, &status, url, URL("/echo"),
	                            (const uint8_t *)"hello", 5),
	         FWC_OK);
	CHECK(rlen == 8 && memcmp(resp, "ok:hello", 8) == 0 && status == 200);
	CHECK_RC(fwc_port_http_post(&port, resp, sizeof(resp), &rlen, NULL, url, URL("/big"),
	                            (const uint8_t *)"x", 1),
	         FWC_ERR_TOO_LARGE);
	CHECK_RC(fwc_port_http_post(&port, resp, sizeof(resp), &rlen, &status, url, URL("/nothere"),
	                            NULL, 0),
	         FWC_ERR_NOT_FOUND);
	CHECK(status == 404 && rlen == 0);
#undef URL
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (test_mkdtemp(dir, sizeof(dir), "port") != 0 ||
	    fwc_posix_format(dir, 65536, 4096) != FWC_OK || test_open(&port, dir) != FWC_OK) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	RUN(test_sha256);
	RUN(test_random);
	RUN(test_bip340_vectors);
	RUN(test_ed25519);
	RUN(test_device_key);
	RUN(test_slots);
	RUN(test_records);
	RUN(test_power_cut);
	RUN(test_clock_and_health);
	RUN(test_file_get);
	RUN(test_http);
	fwc_posix_close(&port);
	test_rmtree(dir);
	return test_done();
}
