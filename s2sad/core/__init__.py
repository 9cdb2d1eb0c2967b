"""The compiler's vocabulary: the IR, its printer and operator tables, names and references."""
