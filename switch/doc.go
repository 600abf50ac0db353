// The switch/ folder holds the SIP side of Switchboard as small packages, one
// concept each, because `switch` is a Go keyword and cannot name a package:
//
//	switch/server     the sipgo user agent, listeners, and request dispatch
//	switch/auth       digest authentication, nonces, failure throttling
//	switch/registrar  device bindings: REGISTER, expiry, persistence
//	switch/event      the in-process event bus (registrations, later calls)
//	switch/phonetest  a scriptable SIP phone for tests
//
// This file exists only to document the layout; the folder root has no package.
package switchdoc
