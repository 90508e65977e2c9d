package io.switchboard.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.knowm.xchart.XYChart;

/** The --report page: inline SVG charts and the report table, nothing external. */
@Timeout(120)
class HtmlReportTest {
    @TempDir
    Path dir;

    @Test
    void shouldWriteOnePageWithInlineSvgChartsAndTheTableValues() throws Exception {
        List<BenchRun.Sample> timeline = new ArrayList<>();
        for (int s = 0; s < 20; s++) {
            timeline.add(new BenchRun.Sample(s, s * 5_000L, s * 5_000L, s / 10, s > 10 ? 2_000 : 0,
                    s > 10 ? 1.5 + s / 10.0 : Double.NaN));
        }
        Histogram push = new Histogram(3);
        for (int i = 1; i <= 10_000; i++) {
            push.recordValue(200 + i % 900);
        }
        push.recordValue(48_000);
        List<HtmlReport.Row> rows = List.of(new HtmlReport.Row("connections established", "98765 / 100000"),
                new HtmlReport.Row("errors", "{connect <timeout>=3}"));
        Path file = dir.resolve("report.html");

        HtmlReport.write(file, "bench: 100000 connections", timeline, push, rows);

        String html = Files.readString(file);
        assertTrue(html.startsWith("<!DOCTYPE html>"));
        assertEquals(3, html.split("<svg", -1).length - 1, "connections, pushes over time, percentiles");
        assertFalse(html.contains("<?xml"), "SVG prologues are stripped for inlining");
        assertTrue(html.contains("<td>connections established</td><td>98765 / 100000</td>"));
        assertTrue(html.contains("{connect &lt;timeout&gt;=3}"), "values are escaped");
        assertTrue(html.contains("10001 pushes"));
        assertFalse(html.contains("<script") || html.contains("src=\"http"), "self-contained");
    }

    @Test
    void shouldLeaveOutPushChartsWhenNothingWasPushed() throws Exception {
        List<BenchRun.Sample> timeline = List.of(new BenchRun.Sample(0, 0, 0, 0, 0, Double.NaN),
                new BenchRun.Sample(1, 10, 10, 0, 0, Double.NaN));
        String html = HtmlReport.render("t", timeline, new Histogram(3), List.of(new HtmlReport.Row("a", "1")));
        assertEquals(1, html.split("<svg", -1).length - 1);
        assertTrue(html.contains("<td>a</td><td>1</td>"));
    }

    @Test
    void shouldLabelThePercentileAxis() {
        assertEquals("0%", HtmlReport.percentileLabel(0));
        assertEquals("90%", HtmlReport.percentileLabel(1));
        assertEquals("99%", HtmlReport.percentileLabel(2));
        assertEquals("99.9%", HtmlReport.percentileLabel(3));
        assertEquals("99.999%", HtmlReport.percentileLabel(5));
        assertEquals("68.38%", HtmlReport.percentileLabel(0.5));
    }

    @Test
    void shouldGiveEveryTickADifferentLabelBecauseXChartLoopsOnDuplicates() {
        for (double step : new double[] {0.05, 0.1, 0.2, 0.25, 0.5}) {
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (int i = -10; i * step <= 8; i++) {
                String label = HtmlReport.percentileLabel(i * step);
                assertTrue(seen.add(label), "duplicate " + label + " at step " + step);
            }
        }
    }

    @Test
    void shouldKeepTheReportOfAnHourLongRunSmall() {
        List<BenchRun.Sample> timeline = new ArrayList<>();
        for (int s = 0; s < 3_600; s++) {
            timeline.add(new BenchRun.Sample(s, s * 30L, s * 30L, s / 100, 2_000 + s % 17, 1.5 + (s % 60) / 10.0));
        }
        Histogram push = new Histogram(3);
        for (int i = 1; i <= 100_000; i++) {
            push.recordValue(200 + (i * 7919L) % 5_000);
        }

        String html = HtmlReport.render("t", timeline, push, List.of(new HtmlReport.Row("a", "1")));

        assertEquals(3, html.split("<svg", -1).length - 1);
        assertTrue(html.length() < 300_000, "was " + html.length() + " characters (870 KB before)");
        assertFalse(html.substring(html.indexOf("<svg")).matches("(?s).*\\d\\.\\d{2,}.*"),
                "numbers in the charts keep one decimal");
    }

    @Test
    void shouldPutRoundPercentilesOnThePercentileAxis() {
        for (int tail : new int[] {10, 1_000, 100_000, 1_000_000}) {
            Histogram h = new Histogram(3);
            for (int i = 1; i <= tail; i++) {
                h.recordValue(100 + i % 1_000);
            }
            XYChart chart = HtmlReport.percentileChart(h);
            Set<String> labels = new TreeSet<>();
            Function<Double, String> format = chart.getStyler().getxAxisTickLabelsFormattingFunction();
            double axisMax = chart.getStyler().getXAxisMax();
            chart.getStyler().setxAxisTickLabelsFormattingFunction(x -> {
                String label = format.apply(x);
                // XChart also formats ticks just outside the axis, which it does not draw.
                if (x >= 0 && x <= axisMax) {
                    labels.add(label);
                }
                return label;
            });
            BufferedImage image = new BufferedImage(HtmlReport.WIDTH, HtmlReport.HEIGHT, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = image.createGraphics();
            chart.paint(g, HtmlReport.WIDTH, HtmlReport.HEIGHT);
            g.dispose();

            assertTrue(labels.containsAll(List.of("0%", "90%")), tail + " values: " + labels);
            Set<String> round = Set.of("0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%", "99.99999%",
                    "99.999999%");
            assertTrue(round.containsAll(labels), tail + " values: " + labels);
        }
    }

    @Test
    void shouldThinALongTimelineKeepingTheLastCountersAndTheHighestP99() {
        List<BenchRun.Sample> timeline = new ArrayList<>();
        for (int s = 0; s < 1_000; s++) {
            timeline.add(new BenchRun.Sample(s, s, s, 0, 10, s == 501 ? 99.0 : 1.0));
        }

        List<BenchRun.Sample> thin = HtmlReport.thin(timeline, 100);

        assertEquals(100, thin.size());
        assertEquals(999, thin.getLast().established());
        assertEquals(999, thin.getLast().elapsedSec());
        assertEquals(10, thin.get(0).pushesPerSec());
        assertEquals(99.0, thin.get(50).pushP99Ms(), "the spike stays visible");
        assertEquals(timeline, HtmlReport.thin(timeline, 1_000));
    }

    @Test
    void shouldShortenNumbersAndJoinSegmentsIntoPolylines() {
        assertEquals("M1.4,-1.6 L0,2.0 x=\"316.3\" 12 0.5", HtmlReport.shortenNumbers(
                "M1.40625,-1.5625 L-0.03125,2.0 x=\"316.25615006481155\" 12 0.5"));
        String s = "a";
        String svg = "<g>\n<line style=\"s\" x1=\"1\" x2=\"2\" y1=\"5\" y2=\"6\"/>\n"
                + "    <line style=\"s\" x1=\"2\" x2=\"3\" y1=\"6\" y2=\"7\"/>\n"
                + "<line style=\"t\" x1=\"3\" x2=\"4\" y1=\"7\" y2=\"8\"/>\n</g>";

        assertEquals("<g>\n<polyline style=\"s\" points=\"1,5 2,6 3,7\"/>\n"
                + "<polyline style=\"t\" points=\"3,7 4,8\"/>\n</g>", HtmlReport.joinLines(svg));
        assertEquals(s, HtmlReport.joinLines(s));
    }
}
