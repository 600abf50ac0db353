// Package media anchors a call's audio in the switch: every call leg gets an
// [Endpoint] (an RTP port and the RTCP port above it); [Bridge] relays RTP
// between two endpoints, [Endpoint.Play] sends a prompt or music to one,
// [Endpoint.Record] records what its phone says and [Endpoint.OnDTMF]
// reports the keys it presses. It also reads and writes the SDP that
// describes those ports ([ParseSDP], [Negotiate], [BuildSDP]) and decodes
// RFC 4733 telephone-events ([ParseEvent]). It imports nothing of
// Switchboard's own.
//
// # Ports
//
// An [Engine] owns the configured port range. [Engine.NewEndpoint] takes a
// (even RTP, odd RTCP) pair bound on Config.BindIP. When an endpoint closes,
// its pair goes back to the pool still bound and read: for Config.Drain
// whatever arrives there (a packet still in flight from the old call) is
// read and dropped, never handed to the next call, and a pair that keeps
// receiving (a phone that missed its BYE) is drained again from its last
// packet, so it serves a new call only after Config.Drain of quiet. A
// drained pair then serves the next endpoint without a new socket, bind or
// epoll registration (binding and closing two sockets cost a call leg about
// 30 µs).
// Drained pairs are reused oldest first; a pair left unused for IdleClose
// after its drain is closed the next time the pool is used, so the process
// holds about as many sockets as its busiest minute needed. Without a port
// range (tests) each endpoint binds OS-chosen ports and closes them with
// it. The drain and the idle limit are timestamps checked when pairs are
// taken and given back: no timer, no goroutine. [Engine.Close] closes the
// pooled pairs at shutdown, and pairs given back after it as they come.
//
// # Receiving: symmetric RTP
//
// The sockets are non-blocking and outside Go's netpoller: one read loop (a
// goroutine in epoll_wait, level-triggered) serves up to 1,000 pairs, and
// more loops start, up to GOMAXPROCS and 4, when there are more. Each round
// it reads one datagram from every ready socket and hands it to the endpoint
// using the pair, so a packet costs one recvfrom and, relayed, one sendto:
// no goroutine wake-up and no read failing with EAGAIN, as a goroutine per
// socket cost (BenchmarkRelayManySockets: 27 % less CPU per relayed packet
// at 500 calls). Handlers ([Endpoint.OnDTMF]) run on the loop and must not block.
// The RTP handler latches the endpoint onto the source address of the first
// valid RTP packet and from then on ignores every other source; what we
// send goes to that latched address, or to the SDP address until the phone
// has sent something. This is what makes phones behind NAT work. A new SDP
// address (re-INVITE to somewhere else) undoes the latch. RTCP is only
// counted.
//
// # Relaying
//
// Each endpoint has one outbound stream toward its phone: one SSRC, one
// sequence number and one timestamp line, whatever feeds it. A relayed packet
// is rewritten onto that line: when the source changes (a new [Bridge], or the
// far phone restarts its stream with a new SSRC) the next packet gets the next
// sequence number, a timestamp advanced by the real time elapsed since the
// last packet sent, and the marker bit; after that the source's own spacing
// (gaps, reordering) is kept by a fixed offset. Payload types are mapped to
// what the receiving leg negotiated: G.711 audio is transcoded μ-law ↔ A-law
// byte by byte when the legs differ, RFC 4733 events get the leg's
// telephone-event payload type (or are dropped if it has none), and anything
// else (comfort noise, unknown types) is dropped.
//
// The relay path allocates nothing: the packet is read into the read loop's
// buffer, parsed into the loop's rtp.Packet, rewritten into the loop's send
// buffer and sent with a raw sendto; BenchmarkRelay and
// BenchmarkRelayManySockets show 0 allocs/op.
//
// # Playing
//
// [Endpoint.Play] puts a [Source] on the same outbound stream, so a leg
// switches bridge → prompt → music → bridge with one SSRC, continuous
// sequence numbers, the real gap in the timestamps and the marker bit at
// each switch. Play takes the endpoint out of its bridge and Bridge ends the
// playback; the call's owner re-bridges when the prompt is done.
//
// One pacer goroutine per engine sends every playing endpoint its next
// 20 ms frame, in the leg's codec, from a per-goroutine buffer: no goroutine
// or timer per leg, no allocation per frame (BenchmarkMusicTick). It runs
// only while something plays, and catches up (or skips, leaving a timestamp
// gap) when it was held up. Sources are asked for frames by tick number, on
// a clock shared by the process, so a shared source makes each frame once:
// a [Music] heard by 2,000 held callers costs one frame lookup and at most
// one μ-law → A-law conversion a tick, then one sendto a listener. The
// sources are 8 kHz μ-law, the format of the embedded prompts: [Clip] and
// [Clips] play once and signal Done; [Music] loops for everyone, with an
// optional intro per listener ([Music.WithIntro]); [Sequence] chains them.
//
// # Recording and key presses
//
// What the phone sends is recorded ([Endpoint.Record]) whether the endpoint
// plays, is bridged or idle, always as 8 kHz μ-law (A-law is converted), so
// voicemail is stored in one format. RTP timestamps place the audio: the
// silence a phone leaves out (VAD) or loses is kept as silence, a late packet
// fills its place, a clock jump beyond the wall time is closed up. [Voiced]
// tells an empty message from speech.
//
// While not bridged, RFC 4733 events are reported to [Endpoint.OnDTMF], once
// per key press: all packets of a press carry its start timestamp, so the
// repeated end packets and late packets are recognised. In a bridge they are
// relayed to the other phone instead.
package media
