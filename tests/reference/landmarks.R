# Reference values for landmark survival rates: R summary(fit, times = ..., extend = TRUE),
# which carries the last value of the curve past the last follow-up time (0 once the curve
# has reached 0). Our rule (docs/validation.md): the rate is R's, except after the last
# follow-up of a curve that has not reached 0, where it is not estimable.
#
# Run from the repository root after follow_up.R:   Rscript tests/reference/landmarks.R
# Inputs: tests/reference/data/seed_os.csv, lung_os.csv, fu_small.csv (see follow_up.R);
# writes tests/reference/data/lm_zero.csv (a curve that reaches 0 at its last time) and
# tests/reference/fixtures/landmarks.json. R 4.2, survival 3.5-3.
suppressPackageStartupMessages(library(survival))
source("tests/reference/json_writer.R")
data_dir <- "tests/reference/data"
fix_dir <- "tests/reference/fixtures"
write.csv(data.frame(time = c(1, 2, 2, 3, 4, 4), status = c(1, 0, 1, 1, 1, 1)),
          file.path(data_dir, "lm_zero.csv"), row.names = FALSE)

times <- list(
  seed_os = c(6, 12, 24, 36) * 30.4375,   # 36 months is after the last follow-up (1054 days)
  lung_os = c(0, 90, 365, 730, 1022, 1100),
  fu_small = c(1, 5, 10, 14, 20),
  lm_zero = c(0.5, 2, 3.5, 4, 6)
)
one <- function(name) {
  d <- read.csv(file.path(data_dir, paste0(name, ".csv")))
  out <- list(last_time = scalar(max(d$time)))
  for (ct in c("log", "log-log")) {
    fit <- survfit(Surv(time, status) ~ 1, data = d, conf.type = ct)
    s <- summary(fit, times = times[[name]], extend = TRUE)
    out$last_surv <- scalar(fit$surv[length(fit$surv)])
    out[[ct]] <- list(time = s$time, n_risk = s$n.risk, surv = s$surv,
                      lower = s$lower, upper = s$upper)
  }
  out
}
res <- lapply(setNames(names(times), names(times)), one)
writeLines(to_json(res), file.path(fix_dir, "landmarks.json"))
cat("fixture written to", file.path(fix_dir, "landmarks.json"), "\n")
