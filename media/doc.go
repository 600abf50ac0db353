// Package media anchors a call's audio in the switch. This first part holds
// the SDP it reads and writes ([ParseSDP], [Negotiate], [BuildSDP]), the G.711
// codecs and RFC 4733 telephone-events ([ParseEvent]). It imports nothing of
// Switchboard's own.
package media
