/* The literals of ClickHouse SQL (src/store/ch_sql.c): every byte of a
 * value is written so that the server reads back the same bytes, and
 * nothing that does not fit is ever cut into a shorter statement. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "store/ch_sql.h"

static const char *quote(const void *p, size_t len)
{
	static char buf[512];
	struct dr_ch_sql s;
	dr_ch_sql_init(&s, buf, sizeof(buf));
	dr_ch_sql_str(&s, p, len);
	return s.overflow ? "(overflow)" : buf;
}

static void test_strings(void)
{
	CHECK_STR(quote("example.com", 11), "'example.com'");
	CHECK_STR(quote("", 0), "''");
	CHECK_STR(quote("o'hara", 6), "'o\\'hara'");
	CHECK_STR(quote("a\\b", 3), "'a\\\\b'");
	CHECK_STR(quote("\\'", 2), "'\\\\\\''");
	/* a NUL in the middle is a byte of the value, not its end */
	CHECK_STR(quote("a\0b", 3), "'a\\0b'");
	CHECK_STR(quote("\n\t\x7f", 3), "'\\x0A\\x09\\x7F'");
	/* an address key: the family octet, then the octets */
	static const unsigned char key[] = {4, 192, 0, 2, 1};
	CHECK_STR(quote(key, sizeof(key)), "'\\x04\\xC0\\0\\x02\\x01'");
	/* a backquote is nothing special in a string, a quote nothing in a name */
	CHECK_STR(quote("`", 1), "'`'");
	char buf[64];
	struct dr_ch_sql s;
	dr_ch_sql_init(&s, buf, sizeof(buf));
	dr_ch_sql_ident(&s, "db`x'");
	CHECK_STR(buf, "`db\\`x'`");
}

static void test_overflow(void)
{
	/* a long name (a DNS name's most, with escapes) does not fit a small
	 * buffer: overflow sticks and later fragments add nothing */
	char name[1100];
	memset(name, 'a', sizeof(name));
	CHECK_STR(quote(name, sizeof(name)), "(overflow)");
	CHECK_EQ(strlen(quote(name, 509)), 511);	/* the quotes and the NUL: 512 */
	CHECK_STR(quote(name, 510), "(overflow)");
	char buf[16];
	struct dr_ch_sql s;
	dr_ch_sql_init(&s, buf, sizeof(buf));
	dr_ch_sql_add(&s, "SELECT 1");
	CHECK_EQ(s.overflow, 0);
	dr_ch_sql_str(&s, "abcdefgh", 8);
	CHECK_EQ(s.overflow, 1);
	dr_ch_sql_add(&s, "x");
	CHECK_EQ(s.overflow, 1);
	CHECK(strlen(buf) < sizeof(buf));
	/* exactly full: 15 characters and the NUL */
	dr_ch_sql_init(&s, buf, sizeof(buf));
	dr_ch_sql_add(&s, "123456789012345");
	CHECK_EQ(s.overflow, 0);
	dr_ch_sql_add(&s, "6");
	CHECK_EQ(s.overflow, 1);
	CHECK_STR(buf, "123456789012345");
}

static void test_numbers(void)
{
	char buf[256];
	struct dr_ch_sql s;
	dr_ch_sql_init(&s, buf, sizeof(buf));
	dr_ch_sql_int(&s, -9223372036854775807LL - 1);
	dr_ch_sql_add(&s, " ");
	dr_ch_sql_int(&s, 4294967295LL);
	CHECK_STR(buf, "-9223372036854775808 4294967295");
	/* a double reads back as the same double */
	double v[] = {1796151111.614, 0.1, 1e-300, 1.7976931348623157e308, -0.5, 3};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		dr_ch_sql_init(&s, buf, sizeof(buf));
		dr_ch_sql_double(&s, v[i]);
		CHECK_EQ(s.overflow, 0);
		CHECK(strtod(buf, NULL) == v[i]);
	}
	dr_ch_sql_init(&s, buf, sizeof(buf));
	dr_ch_sql_double(&s, NAN);
	CHECK_EQ(s.overflow, 1);
	dr_ch_sql_init(&s, buf, sizeof(buf));
	dr_ch_sql_double(&s, -INFINITY);
	CHECK_EQ(s.overflow, 1);
}

int main(void)
{
	RUN(test_strings);
	RUN(test_overflow);
	RUN(test_numbers);
	TEST_MAIN_END();
}
