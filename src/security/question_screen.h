// Screening of questions for smuggled SQL: the first check a question meets in the pipeline.
//
// The product turns plain language into SQL; a question that is, or carries, SQL is either an
// attack on some other system that pastes text into SQL, or a probe of this one. The screen
// flags:
//
//   stacked statements        "x'; DROP TABLE users; --"
//   quote break-outs          "x' OR '1'='1", "admin'--", "'; --", "') OR ('a'='a"
//   UNION [ALL] SELECT, subqueries "(SELECT password FROM users)"
//   tautologies after OR/AND/WHERE "OR 1=1", "OR 'a'='a'", "OR x=x", "OR 1--"
//   DDL/DML and server statements: DROP/DELETE FROM/INSERT INTO/UPDATE..SET/ALTER/TRUNCATE/
//     CREATE/GRANT/REVOKE/ATTACH/PRAGMA/COPY..TO/INTO OUTFILE/LOAD DATA/EXEC/WAITFOR DELAY/...
//   calls of dangerous functions: sleep(5), pg_sleep, benchmark, load_extension, pg_read_file,
//     lo_*, dblink*, xp_cmdshell, load_file, extractvalue, ...; server variables (@@version)
//   comment tricks            UN/**/ION, empty comments, MySQL /*! */ comments
//   all of the above hidden by encodings (see security/decode.h), decoded first.
//
// The analysis reads the (decoded) text with PostgreSQL's own lexer (pg_query_scan). Because a
// question may or may not sit inside a quoted string in whatever SQL it ends up in, the text is
// read three ways: as SQL code, as the inside of a '...' literal and as the inside of a "..."
// literal. Quotes, comments and the splitting around unbalanced quotes are handled here; the
// code between them goes to the lexer.
//
// Ordinary business questions must pass: apostrophes ("O'Reilly's"), quoted values
// ("customers named 'Smith'"), dashes ("Q1 -- excluding returns"), percentages, ampersands and
// words such as select, drop, update or union in their English sense.
// Thread-safety: a pure function, safe from any thread.
#pragma once

#include <string>
#include <string_view>

namespace helios::security {

struct Screening {
  bool flagged = false;
  // What was found and where, for the person who asked: "a stacked statement: '; DROP TABLE'",
  // with "(after decoding URL escapes)" when an encoding hid it. Empty when not flagged.
  std::string reason;
};

Screening ScreenQuestion(std::string_view question);

}  // namespace helios::security
