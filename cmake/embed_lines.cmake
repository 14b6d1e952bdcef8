# cmake -DINPUT=names.txt -DOUTPUT=names.c -DSYMBOL=name -DCOUNT=N -P embed_lines.cmake
# Writes `const char *const SYMBOL[COUNT] = {"line 1", ...};` from a text
# file of exactly COUNT lines (none may hold ';', CMake's list separator).
file(READ "${INPUT}" text)
string(REGEX REPLACE "\n$" "" text "${text}")
string(REPLACE "\\" "\\\\" text "${text}")
string(REPLACE "\"" "\\\"" text "${text}")
string(REPLACE "\n" ";" lines "${text}")
list(LENGTH lines count)
if(NOT count EQUAL COUNT)
  message(FATAL_ERROR "${INPUT}: ${count} lines, expected ${COUNT}")
endif()
set(body "")
foreach(line IN LISTS lines)
  string(APPEND body "    \"${line}\",\n")
endforeach()
file(WRITE "${OUTPUT}" "/* Generated from ${INPUT} by cmake/embed_lines.cmake. */\n"
  "const char *const ${SYMBOL}[${COUNT}] = {\n${body}};\n")
