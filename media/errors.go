package media

import "errors"

// Errors returned by legs and codecs.
var (
	ErrClosed       = errors.New("media: leg closed")
	ErrNotStarted   = errors.New("media: leg not started")
	ErrStarted      = errors.New("media: leg already started")
	ErrFrameSize    = errors.New("media: frame longer than 20 ms")
	ErrCodec        = errors.New("media: unsupported codec")
	ErrDTMFDigit    = errors.New("media: invalid dtmf digit")
	ErrNoDTMF       = errors.New("media: telephone-event not negotiated")
	ErrNoPorts      = errors.New("media: no free rtp port in range")
	ErrWAVFormat    = errors.New("media: unsupported wav format")
	ErrWAVMalformed = errors.New("media: malformed wav")
)
