# Reference points of a nomogram with a factor of three levels, from rms::nomogram.
#
# Run from the repository root:   Rscript tests/reference/nomogram_factor.R
# rms draws a factor as one axis: each level sits at (its coefficient - the smallest level's)
# times the points per unit, the reference level's coefficient being 0; the widest axis (the
# largest range of contributions, a factor's over its levels) spans 0-100. Reads
# tests/reference/data/cox_lung.csv (R's lung: time, event, age, sex, ph.ecog), keeps ECOG
# 0-2 and writes tests/reference/data/prog_nomogram_ecog.csv (the rows fitted, ECOG as a
# 0/1 indicator per level) and tests/reference/fixtures/prog_nomogram_ecog.json.

suppressPackageStartupMessages(library(rms))
source("tests/reference/json_writer.R")

d <- read.csv("tests/reference/data/cox_lung.csv")
d <- d[!is.na(d$ph.ecog) & d$ph.ecog <= 2, c("time", "event", "age", "ph.ecog")]
d$ecog <- factor(d$ph.ecog, levels = c(0, 1, 2))
dd <- datadist(d); options(datadist = "dd")
f <- cph(Surv(time, event) ~ age + ecog, data = d, x = TRUE, y = TRUE, surv = TRUE)
ages <- seq(40, 80, by = 10); lp_at <- c(-0.5, 0, 0.5)
nom <- nomogram(f, age = ages, ecog = c("0", "1", "2"), lp = TRUE, lp.at = lp_at)
out <- data.frame(time = d$time, event = d$event, age = d$age,
                  `ecog=1` = as.numeric(d$ph.ecog == 1), `ecog=2` = as.numeric(d$ph.ecog == 2),
                  check.names = FALSE)
write.csv(out, "tests/reference/data/prog_nomogram_ecog.csv", row.names = FALSE)
writeLines(to_json(list(
  data = scalar("prog_nomogram_ecog.csv"), age = ages, ecog_levels = c("0", "1", "2"),
  coef = unname(coef(f)), age_points = unname(nom$age$points),
  ecog_points = unname(nom$ecog$points), lp_at = lp_at, lp_points = nom$lp$x,
  center = scalar(f$center), points_per_unit = scalar(attr(nom, "info")$sc),
  rms = scalar(as.character(packageVersion("rms")))
)), "tests/reference/fixtures/prog_nomogram_ecog.json")
