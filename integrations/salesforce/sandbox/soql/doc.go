// Package soql parses and runs the subset of SOQL that the Salesforce sandbox
// serves on /query, /queryAll and /tooling/query.
//
// The subset covers SELECT lists of fields and parent paths (Account.Owner.Name,
// up to five levels), COUNT(), WHERE with = != <> < > <= >= IN, NOT IN, LIKE,
// AND, OR and NOT, date and datetime values, the relative date literals
// (TODAY, LAST_N_DAYS:n, THIS_MONTH, ...), ORDER BY with ASC/DESC and
// NULLS FIRST/LAST, LIMIT and OFFSET. Anything else the real service accepts
// (subqueries, GROUP BY, aggregates, TYPEOF, WITH, FOR) is rejected with
// MALFORMED_QUERY naming the part, so a client never mistakes a silent
// approximation for the real behaviour.
//
// The package knows nothing about the sandbox: it sees objects through the
// Schema and Store interfaces and returns rows that marshal to JSON exactly
// like Salesforce query records.
package soql
