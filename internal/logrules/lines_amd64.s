//go:build amd64 && !purego

#include "textflag.h"

// func indexesAVX2(b []byte, c byte, from int, out []int) (n, stop int)
//
// Stores the index of each c in b from index from on into out, 32 bytes
// at a time, until b's end (stop = len(b)) or until out is full (stop =
// the start of the 32 bytes that did not fit, n = the indexes stored
// before them). See lines_amd64.go.
TEXT ·indexesAVX2(SB), NOSPLIT, $0-80
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	MOVBQZX c+24(FP), AX
	MOVQ    AX, R11 // c, for the last bytes
	MOVQ from+32(FP), DX
	MOVQ out_base+40(FP), DI
	MOVQ out_len+48(FP), R8
	XORQ R9, R9 // n

	MOVQ $0x0101010101010101, BX
	IMULQ BX, AX
	MOVQ AX, X15
	VPBROADCASTQ X15, Y15

loop:
	LEAQ 32(DX), AX
	CMPQ AX, CX
	JA   tail
	VMOVDQU  (SI)(DX*1), Y0
	VPCMPEQB Y15, Y0, Y0
	VPMOVMSKB Y0, AX
	TESTL    AX, AX
	JZ       next
	MOVQ     R9, R10 // n before these 32 bytes
	POPCNTL  AX, BX
	ADDQ     R9, BX
	CMPQ     BX, R8
	JA       full

bits:
	BSFL AX, BX
	ADDQ DX, BX
	MOVQ BX, (DI)(R9*8)
	INCQ R9
	LEAL -1(AX), BX
	ANDL BX, AX
	JNZ  bits

next:
	ADDQ $32, DX
	JMP  loop

tail:
	CMPQ DX, CX
	JAE  done
	MOVBLZX (SI)(DX*1), AX
	CMPB AL, R11B
	JNE  tnext
	CMPQ R9, R8
	JAE  full
	MOVQ DX, (DI)(R9*8)
	INCQ R9

tnext:
	INCQ DX
	JMP  tail

full:
	MOVQ DX, stop+72(FP)
	MOVQ R9, n+64(FP)
	VZEROUPPER
	RET

done:
	MOVQ DX, stop+72(FP)
	MOVQ R9, n+64(FP)
	VZEROUPPER
	RET
