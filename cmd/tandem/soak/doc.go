// Package soak holds the fault soak, `make soak`: the tandem binary run as
// separate processes (both sandboxes stand-alone, `tandem serve`, two
// `tandem worker`s) against a fresh database, a merchant onboarded over
// HTTP, workers killed with SIGKILL and tokens expired while the history
// imports and a trickle of new sales and customer edits arrives, then a
// count from the sandboxes' side of what was lost or doubled. The test is
// behind the "soak" build tag so `make test` never runs it.
package soak
