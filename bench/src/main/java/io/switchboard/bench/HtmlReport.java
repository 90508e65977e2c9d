package io.switchboard.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * {@code bench --report FILE.html}: one self-contained page (no scripts, no external files) with the run's charts
 * as inline SVG, drawn by XChart, and the final report table. Stateless.
 */
final class HtmlReport {
    static final int WIDTH = 900;
    static final int HEIGHT = 380;
    static final int RENDER_TIMEOUT_SEC = 20;
    /** At most this many points per timeline series: more than the chart's pixels only add bytes. */
    static final int MAX_TIMELINE_POINTS = 450;
    /** SVG coordinates keep one decimal: a tenth of a pixel, where XChart writes up to 17 digits. */
    private static final Pattern LONG_DECIMAL = Pattern.compile("-?\\d+\\.\\d{2,}");
    /** One segment as the SVG encoder writes it; a series is one such element per pair of points. */
    private static final Pattern LINE = Pattern.compile(
            "<line style=\"([^\"]*)\" x1=\"([^\"]*)\" x2=\"([^\"]*)\" y1=\"([^\"]*)\" y2=\"([^\"]*)\"/>\\s*");

    private HtmlReport() {}

    /** One row of the final table. */
    record Row(String name, String value) {
    }

    static void write(Path file, String title, List<BenchRun.Sample> timeline, Histogram pushLatencyUs,
                      List<Row> rows) throws IOException {
        Files.writeString(file, render(title, timeline, pushLatencyUs, rows), StandardCharsets.UTF_8);
    }

    static String render(String title, List<BenchRun.Sample> timeline, Histogram pushLatencyUs, List<Row> rows) {
        StringBuilder h = new StringBuilder(64 * 1024);
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(esc(title))
                .append("</title>\n<style>body{font-family:sans-serif;margin:2em;max-width:960px}"
                        + "table{border-collapse:collapse}td{border-bottom:1px solid #ddd;padding:4px 12px}"
                        + "td:first-child{color:#444}td:last-child{font-family:monospace}"
                        + "figure{margin:1.5em 0}</style></head><body>\n<h1>").append(esc(title)).append("</h1>\n")
                .append("<p>Generated ").append(esc(Instant.now().toString())).append(" by switchboard bench.</p>\n");
        if (!timeline.isEmpty()) {
            timeline = thin(timeline, MAX_TIMELINE_POINTS);
            h.append("<h2>Connections over time</h2>\n<figure>").append(svg(connectionsChart(timeline)))
                    .append("</figure>\n");
            if (timeline.stream().anyMatch(s -> s.pushesPerSec() > 0)) {
                h.append("<h2>Pushes per second and p99 latency over time</h2>\n<figure>")
                        .append(svg(pushTimelineChart(timeline))).append("</figure>\n");
            }
        }
        if (pushLatencyUs != null && pushLatencyUs.getTotalCount() > 0) {
            h.append("<h2>Push latency by percentile</h2>\n<p>").append(pushLatencyUs.getTotalCount())
                    .append(" pushes, measured from their intended send time.</p>\n<figure>")
                    .append(svg(percentileChart(pushLatencyUs))).append("</figure>\n");
        }
        h.append("<h2>Report</h2>\n<table>\n");
        for (Row r : rows) {
            h.append("<tr><td>").append(esc(r.name())).append("</td><td>").append(esc(r.value()))
                    .append("</td></tr>\n");
        }
        h.append("</table>\n</body></html>\n");
        return h.toString();
    }

    /**
     * The timeline in at most {@code maxPoints} samples: each run of consecutive seconds becomes one sample with
     * the run's last counters, its mean push rate and its highest p99 (so that a latency spike stays visible).
     */
    static List<BenchRun.Sample> thin(List<BenchRun.Sample> timeline, int maxPoints) {
        if (timeline.size() <= maxPoints) {
            return timeline;
        }
        int per = (timeline.size() + maxPoints - 1) / maxPoints;
        List<BenchRun.Sample> out = new ArrayList<>(maxPoints);
        for (int from = 0; from < timeline.size(); from += per) {
            List<BenchRun.Sample> run = timeline.subList(from, Math.min(timeline.size(), from + per));
            BenchRun.Sample last = run.get(run.size() - 1);
            double rate = run.stream().mapToDouble(BenchRun.Sample::pushesPerSec).average().orElse(0);
            double p99 = run.stream().mapToDouble(BenchRun.Sample::pushP99Ms).filter(v -> !Double.isNaN(v)).max()
                    .orElse(Double.NaN);
            out.add(new BenchRun.Sample(last.elapsedSec(), last.established(), last.open(), last.errors(), rate,
                    p99));
        }
        return out;
    }

    static XYChart connectionsChart(List<BenchRun.Sample> timeline) {
        XYChart c = chart("Connections", "elapsed (s)", "connections");
        double[] t = timeline.stream().mapToDouble(BenchRun.Sample::elapsedSec).toArray();
        line(c, "established (cumulative handshakes)", t,
                timeline.stream().mapToDouble(BenchRun.Sample::established).toArray());
        line(c, "open", t, timeline.stream().mapToDouble(BenchRun.Sample::open).toArray());
        line(c, "errors (cumulative)", t, timeline.stream().mapToDouble(BenchRun.Sample::errors).toArray());
        return c;
    }

    static XYChart pushTimelineChart(List<BenchRun.Sample> timeline) {
        XYChart c = chart("Pushes", "elapsed (s)", "pushes received / s");
        double[] t = timeline.stream().mapToDouble(BenchRun.Sample::elapsedSec).toArray();
        line(c, "pushes received / s", t, timeline.stream().mapToDouble(BenchRun.Sample::pushesPerSec).toArray());
        List<Double> pt = new ArrayList<>();
        List<Double> p99 = new ArrayList<>();
        for (BenchRun.Sample s : timeline) {
            if (!Double.isNaN(s.pushP99Ms())) {
                pt.add(s.elapsedSec());
                p99.add(s.pushP99Ms());
            }
        }
        if (!pt.isEmpty()) {
            XYSeries s = c.addSeries("p99 latency (ms, right axis)", pt, p99);
            s.setYAxisGroup(1);
            s.setMarker(SeriesMarkers.NONE);
            c.setYAxisGroupTitle(1, "p99 (ms)");
            c.getStyler().setYAxisGroupPosition(1, Styler.YAxisPosition.Right);
        }
        return c;
    }

    /**
     * Latency against percentile, the x axis being {@code log10(1 / (1 - p))} so that the tail gets room: 90% at 1,
     * 99% at 2, 99.9% at 3 (XChart's logarithmic axis ignores custom tick labels, so the log is taken here). Ticks
     * fall on whole numbers only, so that they read 0%, 90%, 99%, 99.9%, ... rather than 68.38% or 96.838%: XChart
     * takes a step of 1 when the tick spacing hint spans about one unit of the axis.
     */
    static XYChart percentileChart(Histogram h) {
        XYChart c = chart("Push latency by percentile", "percentile", "latency (ms)");
        List<Double> x = new ArrayList<>();
        List<Double> y = new ArrayList<>();
        double maxX = 1;
        for (HistogramIterationValue v : h.percentiles(5)) {
            double p = v.getPercentileLevelIteratedTo();
            if (p >= 100.0) {
                break;
            }
            double xv = Math.log10(1 / (1 - p / 100));
            x.add(xv);
            y.add(v.getValueIteratedTo() / 1000.0);
            maxX = Math.max(maxX, xv);
        }
        if (x.isEmpty()) {
            x.add(0.0);
            y.add(h.getMaxValue() / 1000.0);
        }
        line(c, "push latency", x.stream().mapToDouble(Double::doubleValue).toArray(),
                y.stream().mapToDouble(Double::doubleValue).toArray());
        double axisMax = Math.max(1, Math.ceil(maxX));
        c.getStyler().setXAxisMin(0.0);
        c.getStyler().setXAxisMax(axisMax);
        c.getStyler().setXAxisTickMarkSpacingHint((int) Math.ceil(WIDTH / axisMax));
        c.getStyler().setxAxisTickLabelsFormattingFunction(HtmlReport::percentileLabel);
        return c;
    }

    /**
     * The tick label at {@code log10(1 / (1 - p))}: 0 is 0%, 1 is 90%, 2 is 99%, 3 is 99.9%, and in between as
     * many digits as tell neighbours apart. Labels must differ: XChart 3.8 loops forever on duplicate tick labels
     * (knowm/XChart#799).
     */
    static String percentileLabel(double x) {
        if (Math.abs(x) < 1e-9) {
            return "0%";
        }
        boolean decade = Math.abs(x - Math.rint(x)) < 1e-9;
        double p = 100 * (1 - Math.pow(10, -(decade ? Math.rint(x) : x)));
        int decimals = decade ? Math.max(0, (int) Math.rint(x) - 2) : Math.max(1, (int) Math.floor(x) + 2);
        String s = String.format(Locale.ROOT, "%." + decimals + "f", p);
        if (s.indexOf('.') >= 0) {
            s = s.replaceAll("0+$", "").replaceAll("\\.$", "");
        }
        return s + "%";
    }

    private static XYChart chart(String title, String xTitle, String yTitle) {
        XYChart c = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        c.getStyler().setPlotBackgroundColor(Color.WHITE);
        // Below the plot, not over the data.
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        c.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        // Solid: the SVG encoder turns dashed grid lines into filled outlines of every dash (~18 KB a line).
        c.getStyler().setPlotGridLinesStroke(new BasicStroke(0.5f));
        c.getStyler().setMarkerSize(0);
        return c;
    }

    private static void line(XYChart c, String name, double[] x, double[] y) {
        XYSeries s = c.addSeries(name, x, y);
        s.setMarker(SeriesMarkers.NONE);
        s.setLineStyle(new BasicStroke(1.5f));
    }

    /**
     * The chart as an SVG element, or a note saying why it is missing. XChart draws on a daemon thread that is
     * waited for at most {@link #RENDER_TIMEOUT_SEC}: it has known endless loops (knowm/XChart#334, #799), and a
     * bench run must not hang at its very end because of a chart.
     */
    static String svg(XYChart chart) {
        FutureTask<String> task = new FutureTask<>(() -> encodeSvg(chart));
        Thread t = new Thread(task, "bench-chart");
        t.setDaemon(true);
        t.start();
        try {
            return task.get(RENDER_TIMEOUT_SEC, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            return "<p>(chart not drawn: XChart did not finish within " + RENDER_TIMEOUT_SEC + " s)</p>";
        } catch (ExecutionException e) {
            return "<p>(chart not drawn: " + esc(String.valueOf(e.getCause())) + ")</p>";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "<p>(chart not drawn: interrupted)</p>";
        }
    }

    /**
     * The SVG text with the XML prologue and doctype removed, so that it can sit inside HTML, and its numbers cut to
     * one decimal. XChart draws every letter as an outline (TextLayout.getOutline), whatever the encoder's text
     * hint, so text cannot stay text; the digits are most of the bytes.
     */
    private static String encodeSvg(XYChart chart) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        VectorGraphicsEncoder.saveVectorGraphic(chart, bytes, VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
        String s = bytes.toString(StandardCharsets.UTF_8);
        int start = s.indexOf("<svg");
        return joinLines(shortenNumbers(start < 0 ? s : s.substring(start)));
    }

    /**
     * Consecutive segments of one style where each starts at the previous one's end, as one polyline: a series of
     * n points is then one element instead of n - 1 (each repeating its style).
     */
    static String joinLines(String svg) {
        Matcher m = LINE.matcher(svg);
        StringBuilder out = new StringBuilder(svg.length());
        StringBuilder points = new StringBuilder();
        String style = null;
        String endX = null;
        String endY = null;
        int copied = 0;
        while (m.find()) {
            boolean continues = style != null && m.start() == copied && style.equals(m.group(1))
                    && endX.equals(m.group(2)) && endY.equals(m.group(4));
            if (!continues) {
                flushPolyline(out, style, points);
                out.append(svg, copied, m.start());
                style = m.group(1);
                points.setLength(0);
                points.append(m.group(2)).append(',').append(m.group(4));
            }
            points.append(' ').append(m.group(3)).append(',').append(m.group(5));
            endX = m.group(3);
            endY = m.group(5);
            copied = m.end();
        }
        flushPolyline(out, style, points);
        return out.append(svg, copied, svg.length()).toString();
    }

    private static void flushPolyline(StringBuilder out, String style, CharSequence points) {
        if (style != null) {
            out.append("<polyline style=\"").append(style).append("\" points=\"").append(points).append("\"/>\n");
        }
    }

    /** Every decimal number with more than one decimal, rounded to one. */
    static String shortenNumbers(String svg) {
        return LONG_DECIMAL.matcher(svg).replaceAll(m -> {
            String r = BigDecimal.valueOf(Double.parseDouble(m.group())).setScale(1, RoundingMode.HALF_UP)
                    .stripTrailingZeros().toPlainString();
            return r.equals("-0") ? "0" : r;
        });
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
