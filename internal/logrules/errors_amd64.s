//go:build amd64 && !purego

#include "textflag.h"

// func errorPairs(b []byte, from int) (off int, mask uint64)
//
// Per 32 bytes: fold to lower case (OR 0x20: exact for the letters
// compared), compare each byte with e, c, f, p and the byte after it with
// r or a, and drop the places whose byte before is a letter ((b|0x20)-'a'
// <= 25, unsigned). See errors_amd64.go.
TEXT ·errorPairs(SB), NOSPLIT, $0-48
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	MOVQ from+24(FP), DX

	MOVQ $0x2020202020202020, AX
	MOVQ AX, X15
	VPBROADCASTQ X15, Y15 // fold
	MOVQ $0x6565656565656565, AX
	MOVQ AX, X14
	VPBROADCASTQ X14, Y14 // 'e'
	MOVQ $0x6363636363636363, AX
	MOVQ AX, X13
	VPBROADCASTQ X13, Y13 // 'c'
	MOVQ $0x6666666666666666, AX
	MOVQ AX, X12
	VPBROADCASTQ X12, Y12 // 'f'
	MOVQ $0x7070707070707070, AX
	MOVQ AX, X11
	VPBROADCASTQ X11, Y11 // 'p'
	MOVQ $0x7272727272727272, AX
	MOVQ AX, X10
	VPBROADCASTQ X10, Y10 // 'r'
	MOVQ $0x6161616161616161, AX
	MOVQ AX, X9
	VPBROADCASTQ X9, Y9 // 'a'
	MOVQ $0x1919191919191919, AX
	MOVQ AX, X8
	VPBROADCASTQ X8, Y8 // 25: 'z'-'a'

loop:
	LEAQ 33(DX), AX
	CMPQ AX, CX
	JA   done
	VMOVDQU -1(SI)(DX*1), Y0 // the byte before each
	VMOVDQU (SI)(DX*1), Y1   // each
	VMOVDQU 1(SI)(DX*1), Y2  // the byte after each
	VPOR    Y15, Y0, Y0
	VPOR    Y15, Y1, Y1
	VPOR    Y15, Y2, Y2
	VPCMPEQB Y14, Y1, Y3
	VPCMPEQB Y13, Y1, Y4
	VPOR     Y4, Y3, Y3 // e or c
	VPCMPEQB Y10, Y2, Y4
	VPAND    Y4, Y3, Y3 // ... then r
	VPCMPEQB Y12, Y1, Y4
	VPCMPEQB Y11, Y1, Y5
	VPOR     Y5, Y4, Y4 // f or p
	VPCMPEQB Y9, Y2, Y5
	VPAND    Y5, Y4, Y4 // ... then a
	VPOR     Y4, Y3, Y3
	VPSUBB   Y9, Y0, Y0
	VPMINUB  Y8, Y0, Y5
	VPCMPEQB Y5, Y0, Y0 // the byte before is a letter
	VPANDN   Y3, Y0, Y3 // places: pairs not after a letter
	VPMOVMSKB Y3, AX
	TESTL    AX, AX
	JNZ      found
	ADDQ     $32, DX
	JMP      loop

found:
	MOVQ DX, off+32(FP)
	MOVQ AX, mask+40(FP)
	VZEROUPPER
	RET

done:
	MOVQ DX, off+32(FP)
	MOVQ $0, mask+40(FP)
	VZEROUPPER
	RET
