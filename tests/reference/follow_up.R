# Reference values for median follow-up by the reverse Kaplan-Meier method (Schemper & Smith,
# Control Clin Trials 1996;17:343-346): the Kaplan-Meier estimate of the censoring
# distribution, survfit(Surv(time, 1 - status) ~ 1), read by print.survfit's median rule.
#
# Run from the repository root:   Rscript tests/reference/follow_up.R
# Inputs and outputs:
#   tests/reference/data/seed_os.csv    OS of the example cohort in days (time, status), the
#                                       pipeline's ADTTE (PARAMCD == "OS": AVAL, 1 - CNSR) of
#                                       `rechallenge demo`; read here, not written
#   tests/reference/data/lung_os.csv    R's survival::lung (time in days, status 0/1), written
#   tests/reference/data/fu_small.csv   a hand-made set with a tie between a death and a
#                                       censoring on the same day, written
#   tests/reference/fixtures/follow_up.json
# Produced with R 4.2 and survival 3.5-3; numbers with sprintf("%.17g") (json_writer.R).
suppressPackageStartupMessages(library(survival))
source("tests/reference/json_writer.R")
data_dir <- "tests/reference/data"
fix_dir <- "tests/reference/fixtures"
w <- function(df, name) write.csv(df, file.path(data_dir, paste0(name, ".csv")), row.names = FALSE)

w(data.frame(time = lung$time, status = lung$status - 1), "lung_os")
# 10 patients: deaths at 2, 5 (tied with a censoring), 9; the rest censored, the last one too.
w(data.frame(time = c(2, 3, 5, 5, 6, 8, 9, 11, 12, 14),
             status = c(1, 0, 1, 0, 0, 0, 1, 0, 0, 0)), "fu_small")

one <- function(name) {
  d <- read.csv(file.path(data_dir, paste0(name, ".csv")))
  out <- list(n = scalar(nrow(d)), deaths = scalar(sum(d$status)))
  for (ct in c("log", "log-log", "plain")) {
    fit <- survfit(Surv(time, 1 - status) ~ 1, data = d, conf.type = ct)
    tab <- summary(fit)$table
    out[[ct]] <- list(median = scalar(unname(tab["median"])),
                      lower = scalar(unname(tab["0.95LCL"])),
                      upper = scalar(unname(tab["0.95UCL"])))
  }
  out
}
res <- list(seed_os = one("seed_os"), lung_os = one("lung_os"), fu_small = one("fu_small"))
writeLines(to_json(res), file.path(fix_dir, "follow_up.json"))
cat("fixture written to", file.path(fix_dir, "follow_up.json"), "\n")
