package media

import "context"

// contextWriter is implemented by legs whose WriteFrame can give up early.
type contextWriter interface {
	WriteFrameContext(ctx context.Context, pcm []int16) error
}

// Play writes pcm to leg frame by frame (the last one padded with silence)
// and returns when the last frame is queued. The leg's queue paces it in real
// time. If ctx ends first, Play flushes the leg's queue, so a barge-in
// silences the prompt at once, and returns ctx's error.
func Play(ctx context.Context, leg Leg, pcm []int16) error {
	cw, _ := leg.(contextWriter)
	for off := 0; off < len(pcm); off += FrameSamples {
		if err := ctx.Err(); err != nil {
			leg.Flush()
			return err
		}
		frame := pcm[off:min(off+FrameSamples, len(pcm))]
		var err error
		if cw != nil {
			err = cw.WriteFrameContext(ctx, frame)
		} else {
			err = leg.WriteFrame(frame)
		}
		if err != nil {
			if ctx.Err() != nil {
				leg.Flush()
				return ctx.Err()
			}
			return err
		}
	}
	return nil
}
