// Pickle opcodes by name (CPython's Lib/pickle.py and pickletools.py), protocols 0 to 5.
#pragma once

namespace ct::op {

// Stack and framing.
constexpr unsigned char kMark = '(';
constexpr unsigned char kStop = '.';
constexpr unsigned char kPop = '0';
constexpr unsigned char kPopMark = '1';
constexpr unsigned char kDup = '2';
constexpr unsigned char kProto = 0x80;
constexpr unsigned char kFrame = 0x95;

// Constants and numbers.
constexpr unsigned char kNone = 'N';
constexpr unsigned char kNewTrue = 0x88;
constexpr unsigned char kNewFalse = 0x89;
constexpr unsigned char kInt = 'I';
constexpr unsigned char kBinInt = 'J';
constexpr unsigned char kBinInt1 = 'K';
constexpr unsigned char kBinInt2 = 'M';
constexpr unsigned char kLong = 'L';
constexpr unsigned char kLong1 = 0x8a;
constexpr unsigned char kLong4 = 0x8b;
constexpr unsigned char kFloat = 'F';
constexpr unsigned char kBinFloat = 'G';

// Strings and bytes.
constexpr unsigned char kString = 'S';
constexpr unsigned char kBinString = 'T';
constexpr unsigned char kShortBinString = 'U';
constexpr unsigned char kUnicode = 'V';
constexpr unsigned char kBinUnicode = 'X';
constexpr unsigned char kShortBinUnicode = 0x8c;
constexpr unsigned char kBinUnicode8 = 0x8d;
constexpr unsigned char kBinBytes = 'B';
constexpr unsigned char kShortBinBytes = 'C';
constexpr unsigned char kBinBytes8 = 0x8e;
constexpr unsigned char kByteArray8 = 0x96;
constexpr unsigned char kNextBuffer = 0x97;
constexpr unsigned char kReadonlyBuffer = 0x98;

// Containers.
constexpr unsigned char kEmptyTuple = ')';
constexpr unsigned char kTuple = 't';
constexpr unsigned char kTuple1 = 0x85;
constexpr unsigned char kTuple2 = 0x86;
constexpr unsigned char kTuple3 = 0x87;
constexpr unsigned char kEmptyList = ']';
constexpr unsigned char kList = 'l';
constexpr unsigned char kAppend = 'a';
constexpr unsigned char kAppends = 'e';
constexpr unsigned char kEmptyDict = '}';
constexpr unsigned char kDict = 'd';
constexpr unsigned char kSetItem = 's';
constexpr unsigned char kSetItems = 'u';
constexpr unsigned char kEmptySet = 0x8f;
constexpr unsigned char kAddItems = 0x90;
constexpr unsigned char kFrozenSet = 0x91;

// Memo.
constexpr unsigned char kPut = 'p';
constexpr unsigned char kBinPut = 'q';
constexpr unsigned char kLongBinPut = 'r';
constexpr unsigned char kMemoize = 0x94;
constexpr unsigned char kGet = 'g';
constexpr unsigned char kBinGet = 'h';
constexpr unsigned char kLongBinGet = 'j';

// Names, calls and objects.
constexpr unsigned char kGlobal = 'c';
constexpr unsigned char kStackGlobal = 0x93;
constexpr unsigned char kExt1 = 0x82;
constexpr unsigned char kExt2 = 0x83;
constexpr unsigned char kExt4 = 0x84;
constexpr unsigned char kReduce = 'R';
constexpr unsigned char kNewObj = 0x81;
constexpr unsigned char kNewObjEx = 0x92;
constexpr unsigned char kInst = 'i';
constexpr unsigned char kObj = 'o';
constexpr unsigned char kBuild = 'b';
constexpr unsigned char kPersId = 'P';
constexpr unsigned char kBinPersId = 'Q';

}  // namespace ct::op
