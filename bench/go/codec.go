package main

import (
	"fmt"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// prebuilt is a request marshalled once: the codec sends its bytes as they are, so the load generator spends no CPU
// encoding the same message again and again.
type prebuilt []byte

// codec passes prebuilt requests through and (un)marshals everything else as protobuf, the default codec's job. Its
// name is "proto", so the content type stays application/grpc+proto.
type codec struct{}

var _ encoding.CodecV2 = codec{}

func (codec) Marshal(v any) (mem.BufferSlice, error) {
	if b, ok := v.(prebuilt); ok {
		return mem.BufferSlice{mem.SliceBuffer(b)}, nil
	}
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("codec: cannot marshal %T", v)
	}
	b, err := proto.Marshal(m)
	return mem.BufferSlice{mem.SliceBuffer(b)}, err
}

func (codec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("codec: cannot unmarshal into %T", v)
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	return proto.Unmarshal(buf.ReadOnlyData(), m)
}

func (codec) Name() string { return "proto" }
