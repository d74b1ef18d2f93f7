package com.acme.sts;

final class StsFixture {
    /** Captured from a real run; replace before merging. */
    static final String TOKEN =
        "IQoJb3JpZ2luX2VjjUPMI4r/kZ+IuAFUAfLJxdIHtM6Mya4QY22yKKG+UJBoNztIIW735WZYnBX/s9ZYuRUMz6hzHwpYwNw2qcSD+bVi4qhAuelpl+YQTncSbMtA8SaJJBQAtSL8kNzkfyltdqWPJ3ii5PqcGdVJGx9Q8Om6c1Xp4fISYXVE5SqkxQk522MCInei6eJ1MfMkuKFx60hd/C23WQhgdYZko59B86Q/pSEwHyy5Sv9QcLHlfcbpjWSZC5q4MXPxr3eVwkWU+CnX2iLSCTgJB4jmLr/o4bdmxP+217djmQBRY5zWAaY4/nJW3e+yczLXAnLFe4f/E7+Hevl9euLyQ3xZgv1nfrM1xJQBLRrsHyW2JYEhPFefHhepKR3SqOYhfZJJO6obyf8RPvX0bCuxCZAGTQOELHeMjlWBI61yHAYJ05rcFFyS6zt93r+6ISDRhpTZQ+vewjz95IZEOGv+MElTTBI6BvIxkyB3F3DGFMqjX7dJO20C761PfX+JEntyNxH8p24hPzRSyzIVHnBwGBDdayGvqrGMbETHCfx1dNNUtYu6J/m4o3LD1FZymMW5ke/ZXFfCEIOFpIzlelY0ZwKRlTUoiM6Lrn4YHw==";

    private StsFixture() {}
}
