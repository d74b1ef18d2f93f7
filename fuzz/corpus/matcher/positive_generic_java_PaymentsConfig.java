package com.acme.payments;

public final class PaymentsConfig {
    private static final String API_KEY = "w8*vLDHF2TsJGo8Bu*zytkN-";
}
