// Package vault keeps each tenant's OAuth connections to Lightspeed and
// Salesforce in the connections table, with the tokens sealed.
//
// # Sealing
//
// Tokens are sealed with AES-256-GCM under a key derived (HKDF-SHA256, label
// "tandem token vault v1") from TANDEM_SECRET_KEY, with a random 96-bit nonce.
// The additional data names the tenant, the provider and the field ("access"
// or "refresh"), so a ciphertext copied to another row or the other field
// does not open. The stored form is a version byte, the nonce and the
// ciphertext; the key_id column names the key both tokens of a row are
// sealed under (KeyID: a fingerprint, never the key). Older keys listed in
// TANDEM_SECRET_KEYS still open; RotateAll re-seals every row under the
// current key, after which the old keys can be dropped.
//
// # Refresh and its lock
//
// Refresh serialises the refresh of one connection across every process:
// it runs in one transaction that takes the connection row with SELECT …
// FOR UPDATE, decrypts what is stored now (another process may just have
// refreshed, in which case it returns that and calls nothing), calls the
// provider, stores the new access token and the rotated refresh token, and
// commits before any caller sees the new tokens. The provider's HTTP call
// therefore happens while the row lock is held. That is deliberate: the
// lock must cover the call, or two processes would both spend the same
// refresh token and the provider (which rotates it) would revoke one of the
// pairs. It is acceptable because the lock covers one row (one tenant's
// connection to one provider), plain reads (Get) never wait for it under
// Postgres MVCC, and the call is bounded: by the caller's context, or
// DefaultRefreshTimeout when the context has no deadline, after which the
// transaction rolls back and the lock is released. Other refreshers of the
// same connection wait on the lock for at most their own context's
// deadline and then find the new tokens already stored.
//
// A refusal (an error matching ErrInvalidGrant) marks the connection
// needs_reauth in the same locked transaction, committed, and returns a
// *ReauthError: the merchant must connect again.
//
// # Secrets
//
// Tokens never appear in errors, String, GoString or slog output: Tokens
// redacts itself, and errors from refresh callbacks have the current tokens
// replaced by "[redacted]" before they are returned or stored.
package vault
