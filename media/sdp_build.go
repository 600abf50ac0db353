package media

import "strconv"

// BuildSDP writes our offer or answer for d: one audio stream at d.Addr
// (the engine's advertised address) and d.Port, the codecs of d in order
// (PCMU if none), telephone-event with "0-16" when d.DTMFPT is set,
// a=ptime (20 unless d.Ptime says otherwise) and the direction. Lines end in
// CRLF. sessionID and version fill the o= line; bump version on every
// re-offer in the same dialog (RFC 3264 section 8).
func BuildSDP(d SessionDesc, sessionID, version uint64) []byte {
	ipv := "IP4"
	if d.Addr.Is6() && !d.Addr.Is4In6() {
		ipv = "IP6"
	}
	addr := d.Addr.Unmap().String()
	codecs := d.Codecs
	if len(codecs) == 0 {
		codecs = []Codec{PCMU}
	}
	proto := d.Proto
	if proto == "" {
		proto = "RTP/AVP"
	}
	ptime := d.Ptime
	if ptime <= 0 {
		ptime = 20
	}

	b := make([]byte, 0, 320)
	b = append(b, "v=0\r\no=switchboard "...)
	b = strconv.AppendUint(b, sessionID, 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, version, 10)
	b = append(b, " IN "+ipv+" "+addr+"\r\ns=switchboard\r\nc=IN "+ipv+" "+addr+"\r\nt=0 0\r\nm=audio "...)
	b = strconv.AppendInt(b, int64(d.Port), 10)
	b = append(b, " "+proto...)
	for _, c := range codecs {
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(c), 10)
	}
	if d.DTMFPT != 0 {
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(d.DTMFPT), 10)
	}
	b = append(b, "\r\n"...)
	for _, c := range codecs {
		b = append(b, "a=rtpmap:"+itoa(int(c))+" "+c.String()+"/8000\r\n"...)
	}
	if d.DTMFPT != 0 {
		pt := itoa(int(d.DTMFPT))
		b = append(b, "a=rtpmap:"+pt+" telephone-event/8000\r\na=fmtp:"+pt+" 0-16\r\n"...)
	}
	b = append(b, "a=ptime:"+itoa(ptime)+"\r\na="+d.Direction.String()+"\r\n"...)
	return b
}

func itoa(i int) string { return strconv.Itoa(i) }
