# Reference values for the study's competing-risks section (rechallenge.analysis.competing)
# from R cmprsk 2.2: cuminc curves, timepoints() at 6 and 12 months, Gray's test by subgroup,
# and the log(-log) pointwise 95% CI computed from cuminc's variance.
#
# Data: tests/reference/data/competing_study.csv, the example cohort's PFSR rows exported by
# tests/reference/export_competing_study.py (row numbers, no IDs): time in days, status
# 0 censored / 1 progression / 2 death without progression; status_mixed recodes every third
# event as a death so that the second cause is exercised.
#
# Run from the repository root:   Rscript tests/reference/competing_study.R
# Writes tests/reference/fixtures/competing_study.json.

suppressPackageStartupMessages(library(cmprsk))
stopifnot(packageVersion("cmprsk") >= "2.2")
source("tests/reference/json_writer.R")

d <- read.csv("tests/reference/data/competing_study.csv", stringsAsFactors = FALSE)
dpm <- 30.4375
months <- c(6, 12)
z <- qnorm(0.975)

loglog <- function(est, var) {
  se <- sqrt(var) / (est * -log(est))
  ok <- !is.na(est) & est > 0 & est < 1
  list(lower = as.numeric(ifelse(ok, est^exp(z * se), NA)),
       upper = as.numeric(ifelse(ok, est^exp(-z * se), NA)))
}

run_case <- function(status_col, group_col) {
  status <- d[[status_col]]
  fit <- if (is.null(group_col)) cuminc(d$time, status) else cuminc(d$time, status, d[[group_col]])
  curves <- fit[names(fit) != "Tests"]
  tp <- timepoints(curves, months * dpm)
  out <- lapply(names(curves), function(nm) {
    cv <- curves[[nm]]
    est <- unname(tp$est[nm, ]); var <- unname(tp$var[nm, ])
    ci <- loglog(est, var)
    list(name = scalar(nm), time = cv$time, est = cv$est, var = cv$var,
         at_est = est, at_var = var, at_lower = ci$lower, at_upper = ci$upper)
  })
  tests <- if (is.null(fit$Tests)) NULL else list(
    cause = rownames(fit$Tests), stat = unname(fit$Tests[, "stat"]),
    p = unname(fit$Tests[, "pv"]), df = unname(fit$Tests[, "df"]))
  list(status = scalar(status_col),
       group = if (is.null(group_col)) NULL else scalar(group_col),
       times_days = months * dpm, curves = out, tests = tests)
}

cases <- list()
for (s in c("status", "status_mixed")) {
  for (g in list(NULL, "ecog_group", "pdl1")) {
    cases[[length(cases) + 1]] <- run_case(s, g)
  }
}
meta <- list(cmprsk = scalar(as.character(packageVersion("cmprsk"))),
             r = scalar(paste(R.version$major, R.version$minor, sep = ".")))
writeLines(to_json(list(meta = meta, cases = cases)), "tests/reference/fixtures/competing_study.json")
cat("wrote tests/reference/fixtures/competing_study.json\n")
