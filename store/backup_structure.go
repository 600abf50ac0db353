package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// checkStructure walks the page tree of a bbolt file with ordinary bounded
// reads before bbolt itself touches it. bbolt trusts its file: it follows
// page ids and element offsets through its memory map without bounds checks,
// and tx.Check does so on a goroutine of its own, where no recover or
// debug.SetPanicOnFault of ours applies. A damaged backup could therefore
// crash or hang (a page that points at its ancestor) the whole server. After
// this walk every page, element, key and value bbolt will read lies inside
// the file, each page is reached once, and nested buckets are bounded.
//
// The layout is bbolt's (go.etcd.io/bbolt/internal/common: page.go, meta.go,
// bucket.go), in the machine's byte order as bbolt writes it.
func checkStructure(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	w := &pageWalker{f: f, size: st.Size()}
	metas, err := w.metas()
	if err != nil {
		return err
	}
	// bbolt uses the newer valid meta and falls back to the other: both must be safe.
	for _, m := range metas {
		w.visited = map[uint64]bool{}
		w.hwm = m.hwm
		if m.hwm < 2 || m.hwm > uint64(w.size)/uint64(w.pageSize) {
			return fmt.Errorf("truncated: %d pages of %d bytes recorded, file has %d bytes", m.hwm, w.pageSize, w.size)
		}
		if err := w.page(m.root, 0); err != nil {
			return err
		}
		if m.freelist != noFreelist {
			if err := w.freelist(m.freelist); err != nil {
				return err
			}
		}
	}
	return nil
}

const (
	pageHeaderSize   = 16 // id u64, flags u16, count u16, overflow u32
	elementSize      = 16 // branch: pos u32, ksize u32, pgid u64; leaf: flags u32, pos u32, ksize u32, vsize u32
	bucketHeaderSize = 16 // root pgid u64, sequence u64
	metaChecksumAt   = 56 // magic, version, page size, flags u32; root bucket 16; freelist, pgid, txid u64
	branchPageFlag   = 0x01
	leafPageFlag     = 0x02
	freelistPageFlag = 0x10
	bucketLeafFlag   = 0x01
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	noFreelist       = ^uint64(0)
	maxTreeDepth     = 64
)

var order = binary.NativeEndian

type boltMeta struct {
	pageSize                  uint32
	root, freelist, hwm, txid uint64
}

type pageWalker struct {
	f        io.ReaderAt
	size     int64
	pageSize int64
	hwm      uint64
	visited  map[uint64]bool
}

// parseMeta reads the meta stored in the page starting at buf.
func parseMeta(buf []byte) (boltMeta, bool) {
	if len(buf) < pageHeaderSize+metaChecksumAt+8 {
		return boltMeta{}, false
	}
	m := buf[pageHeaderSize:]
	h := fnv.New64a()
	h.Write(m[:metaChecksumAt])
	if order.Uint32(m[0:]) != boltMagic || order.Uint32(m[4:]) != boltVersion || order.Uint64(m[metaChecksumAt:]) != h.Sum64() {
		return boltMeta{}, false
	}
	return boltMeta{pageSize: order.Uint32(m[8:]), root: order.Uint64(m[16:]), freelist: order.Uint64(m[32:]),
		hwm: order.Uint64(m[40:]), txid: order.Uint64(m[48:])}, true
}

// metas finds the page size as bbolt does (from meta 0, else by searching
// for meta 1) and returns the valid metas bbolt may use.
func (w *pageWalker) metas() ([]boltMeta, error) {
	var buf [4096]byte
	if n, _ := w.f.ReadAt(buf[:], 0); n == len(buf) {
		if m, ok := parseMeta(buf[:]); ok {
			w.pageSize = int64(m.pageSize)
		}
	}
	for i := 0; w.pageSize == 0 && i <= 14; i++ {
		pos := int64(1024) << i
		if pos >= w.size-1024 {
			break
		}
		n, _ := w.f.ReadAt(buf[:], pos)
		if m, ok := parseMeta(buf[:n]); ok {
			w.pageSize = int64(m.pageSize)
		}
	}
	if w.pageSize == 0 {
		return nil, errors.New("no valid bbolt meta page")
	}
	if w.pageSize < 1024 || w.pageSize > 1<<16 || w.pageSize&(w.pageSize-1) != 0 {
		return nil, fmt.Errorf("unusual page size %d", w.pageSize)
	}
	var out []boltMeta
	for id := int64(0); id < 2; id++ {
		b := make([]byte, pageHeaderSize+metaChecksumAt+8)
		if n, _ := w.f.ReadAt(b, id*w.pageSize); n == len(b) {
			if m, ok := parseMeta(b); ok {
				out = append(out, m)
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no valid bbolt meta page")
	}
	return out, nil
}

// read returns page id with its overflow pages, after checking its header.
func (w *pageWalker) read(id uint64) ([]byte, uint16, error) {
	if id < 2 || id >= w.hwm {
		return nil, 0, fmt.Errorf("page %d: outside the file's %d pages", id, w.hwm)
	}
	var hdr [pageHeaderSize]byte
	if _, err := w.f.ReadAt(hdr[:], int64(id)*w.pageSize); err != nil {
		return nil, 0, fmt.Errorf("page %d: %w", id, err)
	}
	if got := order.Uint64(hdr[0:]); got != id {
		return nil, 0, fmt.Errorf("page %d: says it is page %d", id, got)
	}
	overflow := uint64(order.Uint32(hdr[12:]))
	if id+overflow >= w.hwm {
		return nil, 0, fmt.Errorf("page %d: %d overflow pages run past the end", id, overflow)
	}
	for i := id; i <= id+overflow; i++ {
		if w.visited[i] {
			return nil, 0, fmt.Errorf("page %d: reached twice", i)
		}
		w.visited[i] = true
	}
	buf := make([]byte, int64(overflow+1)*w.pageSize)
	if _, err := w.f.ReadAt(buf, int64(id)*w.pageSize); err != nil {
		return nil, 0, fmt.Errorf("page %d: %w", id, err)
	}
	return buf, order.Uint16(hdr[8:]), nil
}

// page checks a branch or leaf page and everything below it.
func (w *pageWalker) page(id uint64, depth int) error {
	if depth > maxTreeDepth {
		return fmt.Errorf("page %d: tree deeper than %d", id, maxTreeDepth)
	}
	buf, flags, err := w.read(id)
	if err != nil {
		return err
	}
	switch flags {
	case branchPageFlag:
		count := uint64(order.Uint16(buf[10:]))
		if count == 0 || pageHeaderSize+count*elementSize > uint64(len(buf)) {
			return fmt.Errorf("page %d: bad branch element count %d", id, count)
		}
		for i := uint64(0); i < count; i++ {
			e := pageHeaderSize + i*elementSize
			pos, ksize := uint64(order.Uint32(buf[e:])), uint64(order.Uint32(buf[e+4:]))
			if e+pos+ksize > uint64(len(buf)) {
				return fmt.Errorf("page %d: branch key %d outside the page", id, i)
			}
			if err := w.page(order.Uint64(buf[e+8:]), depth+1); err != nil {
				return err
			}
		}
		return nil
	case leafPageFlag:
		return w.leaf(id, buf, depth)
	}
	return fmt.Errorf("page %d: unexpected page type %#x", id, flags)
}

// leaf checks the elements of a leaf page held in p (a page of the file or a
// bucket stored inline in a value) and the buckets it contains.
func (w *pageWalker) leaf(id uint64, p []byte, depth int) error {
	count := uint64(order.Uint16(p[10:]))
	if pageHeaderSize+count*elementSize > uint64(len(p)) {
		return fmt.Errorf("page %d: bad leaf element count %d", id, count)
	}
	for i := uint64(0); i < count; i++ {
		e := pageHeaderSize + i*elementSize
		flags := order.Uint32(p[e:])
		pos, ksize, vsize := uint64(order.Uint32(p[e+4:])), uint64(order.Uint32(p[e+8:])), uint64(order.Uint32(p[e+12:]))
		kEnd := e + pos + ksize
		if kEnd+vsize > uint64(len(p)) {
			return fmt.Errorf("page %d: leaf element %d outside the page", id, i)
		}
		if flags&^bucketLeafFlag != 0 {
			return fmt.Errorf("page %d: leaf element %d has unknown flags %#x", id, i, flags)
		}
		if flags&bucketLeafFlag == 0 {
			continue
		}
		if err := w.bucket(id, p[kEnd:kEnd+vsize], depth+1); err != nil {
			return err
		}
	}
	return nil
}

// bucket checks a nested bucket's header and its tree (or inline page).
func (w *pageWalker) bucket(id uint64, v []byte, depth int) error {
	if depth > maxTreeDepth {
		return fmt.Errorf("page %d: buckets nested deeper than %d", id, maxTreeDepth)
	}
	if len(v) < bucketHeaderSize {
		return fmt.Errorf("page %d: short bucket header", id)
	}
	if root := order.Uint64(v); root != 0 {
		return w.page(root, depth)
	}
	inline := v[bucketHeaderSize:]
	if len(inline) < pageHeaderSize || order.Uint16(inline[8:]) != leafPageFlag {
		return fmt.Errorf("page %d: bad inline bucket", id)
	}
	return w.leaf(id, inline, depth)
}

// freelist checks that the free page list lies inside its page.
func (w *pageWalker) freelist(id uint64) error {
	buf, flags, err := w.read(id)
	if err != nil {
		return err
	}
	if flags != freelistPageFlag {
		return fmt.Errorf("page %d: freelist page has type %#x", id, flags)
	}
	start, count := uint64(0), uint64(order.Uint16(buf[10:]))
	if count == 0xFFFF { // the real count is the first element
		start, count = 1, order.Uint64(buf[pageHeaderSize:])
	}
	if count > uint64(len(buf))/8 || pageHeaderSize+(start+count)*8 > uint64(len(buf)) {
		return fmt.Errorf("page %d: freelist of %d ids does not fit", id, count)
	}
	return nil
}
