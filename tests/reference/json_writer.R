# A minimal JSON writer shared by the reference scripts (jsonlite is not needed): numbers
# with sprintf("%.17g") so nothing is lost, NA and infinities as null; `scalar(x)` marks a
# length-one value to be written without brackets. Used via source() from the repository root.

num <- function(x) ifelse(is.na(x) | !is.finite(x), "null", sprintf("%.17g", x))
str1 <- function(x) paste0('"', gsub('"', '\\\\"', x), '"')
to_json <- function(x) {
  if (is.null(x)) return("null")
  if (is.list(x)) {
    if (length(x) == 0) return(if (is.null(names(x))) "[]" else "{}")
    if (!is.null(names(x))) {
      body <- paste0(str1(names(x)), ": ", vapply(x, to_json, ""), collapse = ", ")
      return(paste0("{", body, "}"))
    }
    return(paste0("[", paste(vapply(x, to_json, ""), collapse = ", "), "]"))
  }
  if (length(x) == 0) return("[]")
  if (is.character(x) || is.factor(x)) v <- str1(as.character(x))
  else if (is.logical(x)) v <- ifelse(x, "true", "false")
  else v <- num(as.numeric(x))
  if (!is.null(attr(x, "scalar"))) return(v)
  paste0("[", paste(v, collapse = ", "), "]")
}
scalar <- function(x) structure(x, scalar = TRUE)
