# Writes INPUT into OUTPUT as a C++ function returning the text (used for built-in rules).
file(READ ${INPUT} CONTENT)
set(DELIM "gxembed")
file(WRITE ${OUTPUT} "// Generated from ${INPUT}; do not edit.\nnamespace gx {\nconst char* BuiltinRulesYaml() {\n  return R\"${DELIM}(${CONTENT})${DELIM}\";\n}\n}  // namespace gx\n")
